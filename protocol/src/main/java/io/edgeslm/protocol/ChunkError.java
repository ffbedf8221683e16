package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;

/**
 * The controller cannot serve a {@link ChunkRequest} ({@code "type":"error"}): e.g. {@code
 * not_found} for an unknown assignment, file or chunk index, {@code busy} with {@code retryAfterMs}
 * when it is throttling, {@code invalid} for a malformed request.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param requestId the request's id, when it could be read; optional
 * @param assignmentId the assignment, when it could be read; optional
 * @param code machine-readable reason
 * @param message for people: rule, value and next step (at most 1000 characters)
 * @param retryAfterMs when to ask again; required for {@code busy}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChunkError(
    @JsonProperty(required = true) int schemaVersion,
    String requestId,
    String assignmentId,
    ErrorCode code,
    String message,
    Long retryAfterMs)
    implements ChunkReply {

  public ChunkError {
    Checks.schemaVersion("ChunkError", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.optionalIdentifier("requestId", requestId, 128);
    Checks.optionalIdentifier("assignmentId", assignmentId, 128);
    Checks.required("code", code);
    Checks.text("message", message, ErrorReply.MAX_MESSAGE_CHARS);
    Checks.optionalRange("retryAfterMs", retryAfterMs, 0, 86_400_000L);
    Checks.check(
        code != ErrorCode.BUSY || retryAfterMs != null,
        "retryAfterMs is required when code is 'busy': got none. Tell the node when to retry.");
  }
}
