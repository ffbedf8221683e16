package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * One durable step of the node's update journal. {@code seq} starts at 1 and grows by one per entry
 * for the life of the node's store; (node id, seq) identifies an entry, so the controller stores a
 * replayed entry at most once.
 *
 * @param seq sequence number, at least 1
 * @param at when the step happened (node clock)
 * @param event what happened
 * @param assignmentId the assignment concerned; optional
 * @param commandId the command concerned; optional
 * @param model the bundle concerned; optional
 * @param detail for people, e.g. a rejection reason; optional (at most 1000 characters)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JournalEntry(
    @JsonProperty(required = true) long seq,
    Instant at,
    JournalEvent event,
    String assignmentId,
    String commandId,
    ModelRef model,
    String detail) {

  public JournalEntry {
    Checks.range("seq", seq, 1, Long.MAX_VALUE);
    Checks.required("at", at);
    Checks.required("event", event);
    Checks.optionalIdentifier("assignmentId", assignmentId, 128);
    Checks.optionalIdentifier("commandId", commandId, 128);
    Checks.optionalText("detail", detail, ErrorReply.MAX_MESSAGE_CHARS);
  }
}
