package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.edgeslm.protocol.internal.check.Checks;
import java.util.regex.Pattern;

/**
 * What happened when a node handed a question to a larger model ({@link Answer#escalation()}).
 *
 * @param trigger why it was handed on: {@code low_confidence}, {@code invalid_answer} or {@code
 *     outside_tasks}
 * @param target where it went: {@code node:<id>} or {@code endpoint:<name>}
 * @param note present when the target did not answer (failed, timed out, or too many escalations
 *     were running): what happened; the answer is then the node's own
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AnswerEscalation(String trigger, String target, String note) {

  private static final Pattern TRIGGER =
      Pattern.compile("low_confidence|invalid_answer|outside_tasks");

  /** Longest note. */
  public static final int MAX_NOTE_CHARS = 500;

  public AnswerEscalation {
    Checks.required("trigger", trigger);
    Checks.check(
        TRIGGER.matcher(trigger).matches(),
        "escalation.trigger must be low_confidence, invalid_answer or outside_tasks: got "
            + Checks.quote(trigger)
            + ".");
    Answer.checkAnsweredBy("escalation.target", target);
    Checks.check(
        !target.equals("local"), "escalation.target names a node or an endpoint, not local.");
    note = note == null ? null : Checks.boundedText("escalation.note", note, MAX_NOTE_CHARS);
  }
}
