package io.edgeslm.agent.internal.escalation;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * When a node may hand a question to a larger model, and what may travel with it. Off unless a
 * plant turns it on: {@link #off()} escalates nothing and lets no sensor value leave the node.
 *
 * @param enabled whether escalation may happen at all
 * @param minTokenProbability escalate when the mean probability of the answer's tokens is below
 *     this (0 to 1; 0 never triggers)
 * @param onInvalidAnswer escalate when the local answer failed validation
 * @param tasks the tasks the node was configured for; a question classified outside them is
 *     escalated (empty: every question is inside)
 * @param sensorAllowList sensor id patterns ({@code *} matches any run of characters) whose values
 *     may be sent with an escalated question; empty sends none
 * @param maxQuestionChars longest question that may be escalated
 */
public record EscalationPolicy(
    boolean enabled,
    double minTokenProbability,
    boolean onInvalidAnswer,
    Set<String> tasks,
    List<String> sensorAllowList,
    int maxQuestionChars) {

  public EscalationPolicy {
    if (!(minTokenProbability >= 0 && minTokenProbability <= 1)) {
      throw new IllegalArgumentException(
          "minTokenProbability must be between 0 and 1, got " + minTokenProbability);
    }
    tasks = Set.copyOf(Objects.requireNonNull(tasks, "tasks"));
    sensorAllowList = List.copyOf(Objects.requireNonNull(sensorAllowList, "sensorAllowList"));
    for (String p : sensorAllowList) {
      if (p.isBlank()) {
        throw new IllegalArgumentException("a sensor allow-list pattern must not be blank");
      }
    }
    if (maxQuestionChars < 1) {
      throw new IllegalArgumentException(
          "maxQuestionChars must be positive, got " + maxQuestionChars);
    }
  }

  /** The default: nothing is escalated and nothing leaves the node. */
  public static EscalationPolicy off() {
    return new EscalationPolicy(false, 0, false, Set.of(), List.of(), 1);
  }

  /** Whether {@code sensorId} matches a pattern of the allow-list. */
  public boolean allowsSensor(String sensorId) {
    for (String p : sensorAllowList) {
      if (glob(p).matcher(sensorId).matches()) {
        return true;
      }
    }
    return false;
  }

  private static Pattern glob(String pattern) {
    List<String> parts = new java.util.ArrayList<>();
    for (String part : pattern.split("\\*", -1)) {
      parts.add(Pattern.quote(part));
    }
    return Pattern.compile(String.join(".*", parts));
  }
}
