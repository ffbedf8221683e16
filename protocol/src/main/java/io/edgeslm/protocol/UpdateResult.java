package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * An update outcome on {@code edge/v1/{site}/{node}/update/result} (QoS 1). Each is also a journal
 * entry, so one lost while offline reaches the controller by journal replay.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param assignmentId the assignment concerned; at least one of this and {@code commandId}
 * @param commandId the command concerned (e.g. an operator rollback); optional
 * @param outcome verified, activated, rejected, rolled_back or cancelled
 * @param model the bundle the outcome is about (for a rollback: the model left); absent when the
 *     outcome concerns no bundle (a command on a node without a verified model, an assignment too
 *     malformed to name one)
 * @param activeModel the model serving after this outcome; absent on a rules-only node
 * @param reasonCode a stable identifier of the reason, one of {@link ReasonCode}'s {@link
 *     ReasonCode#code() codes} (e.g. {@code tampered}, {@code rollback}, {@code
 *     activation_check_failed}); optional. A string on the wire, so a reader keeps a code that a
 *     newer node added
 * @param reason for people; required for rejected and rolled_back (at most 1000 characters)
 * @param activationScore the activation check's score in [0, 1], when one ran
 * @param at when it happened
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UpdateResult(
    @JsonProperty(required = true) int schemaVersion,
    String assignmentId,
    String commandId,
    UpdateOutcome outcome,
    ModelRef model,
    ModelRef activeModel,
    String reasonCode,
    String reason,
    Double activationScore,
    Instant at) {

  public UpdateResult {
    Checks.schemaVersion("UpdateResult", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.optionalIdentifier("assignmentId", assignmentId, 128);
    Checks.optionalIdentifier("commandId", commandId, 128);
    Checks.check(
        assignmentId != null || commandId != null,
        "an update result must name its assignmentId or commandId: got neither. Name what the"
            + " result is about.");
    Checks.required("outcome", outcome);
    Checks.optionalIdentifier("reasonCode", reasonCode, 64);
    Checks.optionalText("reason", reason, ErrorReply.MAX_MESSAGE_CHARS);
    Checks.check(
        !outcome.needsReason() || reason != null,
        "reason is required when outcome is "
            + Checks.quote(outcome)
            + ": got none. Say why the update was refused or undone.");
    Checks.optionalRange("activationScore", activationScore, 0.0, 1.0);
    Checks.required("at", at);
  }
}
