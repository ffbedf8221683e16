package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;

/**
 * A refused or failed request ({@code "type":"error"}), answered on the same reply topic as an
 * {@link Answer} would have been.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param id the request's id, echoed when it could be read; optional
 * @param code machine-readable reason
 * @param message for a person: the rule, the value and what to do next (at most 1000 characters)
 * @param retryAfterMs when to try again, ms; required for {@code busy}, optional otherwise
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ErrorReply(
    @JsonProperty(required = true) int schemaVersion,
    String id,
    ErrorCode code,
    String message,
    Long retryAfterMs)
    implements Reply {

  /** Longest message. */
  public static final int MAX_MESSAGE_CHARS = 1000;

  public ErrorReply {
    Checks.schemaVersion("ErrorReply", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.optionalIdentifier("id", id, Question.MAX_ID_CHARS);
    Checks.required("code", code);
    Checks.text("message", message, MAX_MESSAGE_CHARS);
    Checks.optionalRange("retryAfterMs", retryAfterMs, 0, 86_400_000L);
    Checks.check(
        code != ErrorCode.BUSY || retryAfterMs != null,
        "retryAfterMs is required when code is 'busy': got none. Tell the client when to retry.");
  }

  /** A current-version error without a retry hint. */
  public static ErrorReply of(String id, ErrorCode code, String message) {
    return new ErrorReply(Protocol.SCHEMA_VERSION, id, code, message, null);
  }

  /** A current-version {@code busy} error. */
  public static ErrorReply busy(String id, String message, long retryAfterMs) {
    return new ErrorReply(Protocol.SCHEMA_VERSION, id, ErrorCode.BUSY, message, retryAfterMs);
  }
}
