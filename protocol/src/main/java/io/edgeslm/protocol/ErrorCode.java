package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Machine-readable reason of an {@link ErrorReply} or a refused payload. The JSON spelling is the
 * lower-case {@link #wireName()}.
 */
public enum ErrorCode {
  /** The payload is larger than the receiver's limit. */
  @JsonProperty("oversized")
  OVERSIZED("oversized"),
  /** The payload is not valid UTF-8. */
  @JsonProperty("not_utf8")
  NOT_UTF8("not_utf8"),
  /** The payload is not well-formed JSON. */
  @JsonProperty("malformed")
  MALFORMED("malformed"),
  /** The JSON is well-formed but breaks a field rule (missing, out of range, wrong type). */
  @JsonProperty("invalid")
  INVALID("invalid"),
  /** The payload's schemaVersion is newer than the receiver understands. */
  @JsonProperty("unsupported_version")
  UNSUPPORTED_VERSION("unsupported_version"),
  /** The request's deadline or message expiry passed before it could be served. */
  @JsonProperty("expired")
  EXPIRED("expired"),
  /** The receiver's queue is full; retry after {@code retryAfterMs}. */
  @JsonProperty("busy")
  BUSY("busy"),
  /** Serving started but did not finish within the request's time budget. */
  @JsonProperty("timeout")
  TIMEOUT("timeout"),
  /** No model and no rule-based fallback can serve the request right now. */
  @JsonProperty("unavailable")
  UNAVAILABLE("unavailable"),
  /** The referenced item (bundle, file, chunk, assignment) is unknown to the receiver. */
  @JsonProperty("not_found")
  NOT_FOUND("not_found"),
  /** The receiver failed for a reason of its own; the message says which. */
  @JsonProperty("internal")
  INTERNAL("internal");

  private final String wireName;

  ErrorCode(String wireName) {
    this.wireName = wireName;
  }

  /** The JSON spelling. */
  public String wireName() {
    return wireName;
  }
}
