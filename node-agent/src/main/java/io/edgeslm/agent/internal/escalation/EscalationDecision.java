package io.edgeslm.agent.internal.escalation;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Whether one question goes to the larger model, and which sensor values may go with it. Pure: no
 * I/O, no clock, no threads; the agent's Q&amp;A shell acts on the result.
 */
public final class EscalationDecision {

  private EscalationDecision() {}

  /** Why a question was escalated. */
  public enum Trigger {
    LOW_CONFIDENCE,
    INVALID_ANSWER,
    OUTSIDE_TASKS
  }

  /**
   * What the local attempt produced.
   *
   * @param task the task the question was classified as
   * @param meanTokenProbability mean probability of the generated tokens, when the engine gave them
   * @param valid whether the local answer passed validation
   */
  public record AnswerStats(String task, OptionalDouble meanTokenProbability, boolean valid) {
    public AnswerStats {
      Objects.requireNonNull(task, "task");
      Objects.requireNonNull(meanTokenProbability, "meanTokenProbability");
    }
  }

  /** The result: stay local, or escalate for {@code trigger} sending only {@code sensors}. */
  public record Verdict(Optional<Trigger> trigger, List<String> sensors, Optional<String> reason) {
    public Verdict {
      Objects.requireNonNull(trigger, "trigger");
      sensors = List.copyOf(sensors);
      Objects.requireNonNull(reason, "reason");
    }

    static Verdict local(String reason) {
      return new Verdict(Optional.empty(), List.of(), Optional.of(reason));
    }

    public boolean escalate() {
      return trigger.isPresent();
    }
  }

  /**
   * Decides for one question.
   *
   * @param policy the plant's policy
   * @param question the question text
   * @param stats what the local attempt produced
   * @param sensorIds the sensors the local answer cited; only allow-listed ones may be sent
   */
  public static Verdict decide(
      EscalationPolicy policy, String question, AnswerStats stats, List<String> sensorIds) {
    if (!policy.enabled()) {
      return Verdict.local("escalation is off");
    }
    if (question.length() > policy.maxQuestionChars()) {
      return Verdict.local(
          "the question has "
              + question.length()
              + " characters, more than the escalation limit of "
              + policy.maxQuestionChars());
    }
    Trigger trigger = null;
    if (!policy.tasks().isEmpty() && !policy.tasks().contains(stats.task())) {
      trigger = Trigger.OUTSIDE_TASKS;
    } else if (policy.onInvalidAnswer() && !stats.valid()) {
      trigger = Trigger.INVALID_ANSWER;
    } else if (stats.meanTokenProbability().isPresent()
        && stats.meanTokenProbability().getAsDouble() < policy.minTokenProbability()) {
      trigger = Trigger.LOW_CONFIDENCE;
    }
    if (trigger == null) {
      return Verdict.local("the local answer meets the policy");
    }
    List<String> allowed = sensorIds.stream().filter(policy::allowsSensor).toList();
    return new Verdict(Optional.of(trigger), allowed, Optional.empty());
  }
}
