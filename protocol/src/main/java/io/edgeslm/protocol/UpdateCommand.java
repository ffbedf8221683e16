package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * An operator or controller command on {@code edge/v1/{site}/{node}/update/command} (QoS 1, not
 * retained). The node answers with an {@link UpdateResult} carrying the {@code commandId}; a
 * command seen twice (same id) is executed once.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param commandId unique id
 * @param action rollback or cancel
 * @param assignmentId the assignment to cancel; required for cancel, optional for rollback
 * @param reason for the journal and people; optional (at most 500 characters)
 * @param issuedAt when issued
 * @param expiresAt not executed after this instant; optional
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UpdateCommand(
    @JsonProperty(required = true) int schemaVersion,
    String commandId,
    CommandAction action,
    String assignmentId,
    String reason,
    Instant issuedAt,
    Instant expiresAt) {

  public UpdateCommand {
    Checks.schemaVersion("UpdateCommand", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.identifier("commandId", commandId, 128);
    Checks.required("action", action);
    Checks.optionalIdentifier("assignmentId", assignmentId, 128);
    Checks.check(
        action != CommandAction.CANCEL || assignmentId != null,
        "assignmentId is required for action 'cancel': got none. Name the assignment to cancel.");
    Checks.optionalText("reason", reason, 500);
    Checks.required("issuedAt", issuedAt);
    Checks.check(
        expiresAt == null || expiresAt.isAfter(issuedAt),
        "expiresAt must be after issuedAt: got issuedAt="
            + issuedAt
            + ", expiresAt="
            + expiresAt
            + ". Give the command time to arrive.");
  }
}
