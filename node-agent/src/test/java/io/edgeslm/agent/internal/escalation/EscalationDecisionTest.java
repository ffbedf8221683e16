package io.edgeslm.agent.internal.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.escalation.EscalationDecision.AnswerStats;
import io.edgeslm.agent.internal.escalation.EscalationDecision.Trigger;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EscalationDecisionTest {

  private static final List<String> CITED = List.of("press3.oil.temp", "press3.operator.badge");

  private static EscalationPolicy on(List<String> allow) {
    return new EscalationPolicy(true, 0.5, true, Set.of("qa"), allow, 1000);
  }

  @Test
  void decide_policyOff_lowConfidenceInvalidAnswer_staysLocalAndSendsNoSensor() {
    var v =
        EscalationDecision.decide(
            EscalationPolicy.off(),
            "why is press 3 hot?",
            new AnswerStats("other", OptionalDouble.of(0.01), false),
            CITED);
    assertThat(v.escalate()).isFalse();
    assertThat(v.sensors()).isEmpty();
  }

  @Test
  void decide_lowTokenConfidence_escalatesWithAllowListedSensorsOnly() {
    var v =
        EscalationDecision.decide(
            on(List.of("press3.oil.*")),
            "why is press 3 hot?",
            new AnswerStats("qa", OptionalDouble.of(0.2), true),
            CITED);
    assertThat(v.trigger()).contains(Trigger.LOW_CONFIDENCE);
    assertThat(v.sensors()).containsExactly("press3.oil.temp");
  }

  @Test
  void decide_emptyAllowList_escalatesTheQuestionWithoutAnySensor() {
    var v =
        EscalationDecision.decide(
            on(List.of()), "q", new AnswerStats("qa", OptionalDouble.of(0.2), true), CITED);
    assertThat(v.escalate()).isTrue();
    assertThat(v.sensors()).isEmpty();
  }

  @Test
  void decide_confidentValidAnswer_staysLocal() {
    var v =
        EscalationDecision.decide(
            on(List.of("*")), "q", new AnswerStats("qa", OptionalDouble.of(0.9), true), CITED);
    assertThat(v.escalate()).isFalse();
  }

  @Test
  void decide_answerFailedValidation_escalates() {
    var v =
        EscalationDecision.decide(
            on(List.of()), "q", new AnswerStats("qa", OptionalDouble.empty(), false), CITED);
    assertThat(v.trigger()).contains(Trigger.INVALID_ANSWER);
  }

  @Test
  void decide_questionOutsideConfiguredTasks_escalates() {
    var v =
        EscalationDecision.decide(
            on(List.of()),
            "q",
            new AnswerStats("maintenance", OptionalDouble.of(0.9), true),
            CITED);
    assertThat(v.trigger()).contains(Trigger.OUTSIDE_TASKS);
  }

  @Test
  void decide_questionLongerThanEscalationLimit_staysLocal() {
    var policy = new EscalationPolicy(true, 0.5, true, Set.of("qa"), List.of("*"), 5);
    var v =
        EscalationDecision.decide(
            policy, "too long", new AnswerStats("qa", OptionalDouble.of(0.1), false), CITED);
    assertThat(v.escalate()).isFalse();
    assertThat(v.reason())
        .contains("the question has 8 characters, more than the escalation limit of 5");
  }

  @Test
  void allowsSensor_patternWithoutWildcard_matchesOnlyThatId() {
    var policy = on(List.of("press3.oil.temp"));
    assertThat(policy.allowsSensor("press3.oil.temp")).isTrue();
    assertThat(policy.allowsSensor("press3.oil.temperature")).isFalse();
    assertThat(policy.allowsSensor("press3XoilXtemp")).isFalse();
  }
}
