package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;

/**
 * How long an answer took, measured by the node.
 *
 * @param queueMs time waiting in the scheduler's queue, ms (≥ 0)
 * @param firstTokenMs time from arrival to the first generated token, ms; absent for rules
 * @param totalMs time from arrival to the final answer, ms (≥ 0)
 * @param tokens generated tokens (0 for rules)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AnswerTimings(
    @JsonProperty(required = true) long queueMs,
    Long firstTokenMs,
    @JsonProperty(required = true) long totalMs,
    @JsonProperty(required = true) int tokens) {

  public AnswerTimings {
    Checks.range("timings.queueMs", queueMs, 0, Long.MAX_VALUE);
    Checks.optionalRange("timings.firstTokenMs", firstTokenMs, 0, Long.MAX_VALUE);
    Checks.range("timings.totalMs", totalMs, 0, Long.MAX_VALUE);
    Checks.range("timings.tokens", tokens, 0, Integer.MAX_VALUE);
  }
}
