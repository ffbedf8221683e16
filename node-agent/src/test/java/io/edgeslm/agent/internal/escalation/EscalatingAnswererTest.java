package io.edgeslm.agent.internal.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.qa.Answerer;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Source;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The escalation shell against a scripted target (a simulator of the other node or endpoint): what
 * it is given, and what the operator gets when it answers, fails, times out, or is already busy.
 */
class EscalatingAnswererTest {

  private static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final ModelRef BIG = ModelRef.of("big", 1, "sha256:" + "ab".repeat(32));

  private static final List<SensorCitation> CITED =
      List.of(
          new SensorCitation("press3.oil_temp", 71.5, "°C", 400),
          new SensorCitation("recipe.secret_mix", 4242.5, "g", 400));

  /** A local answer that the policy escalates for low confidence. */
  private static Answerer local(double probability) {
    return (q, deadline, partial) ->
        new Answerer.Outcome(
            "local text",
            CITED,
            Source.RULES,
            Optional.empty(),
            Optional.empty(),
            0,
            new EscalationDecision.AnswerStats(
                "sensor-values", OptionalDouble.of(probability), true),
            Answerer.LOCAL,
            Optional.empty());
  }

  private static EscalationSettings settings(int maxConcurrent) {
    return new EscalationSettings(
        new EscalationPolicy(true, 0.5, true, Set.of(), List.of("press3.*"), 1000),
        Optional.of(new EscalationSettings.Node("plant", "big")),
        Duration.ofSeconds(5),
        maxConcurrent);
  }

  /** Records what it was sent; answers, fails or times out as told. */
  static final class ScriptedTarget implements EscalationTarget {
    final List<List<SensorCitation>> sent = new CopyOnWriteArrayList<>();
    volatile String mode = "answer";
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public String label() {
      return "node:big";
    }

    @Override
    public Answered ask(String question, List<SensorCitation> values, Duration timeout)
        throws Failure, InterruptedException {
      sent.add(values);
      switch (mode) {
        case "fail" -> throw new Failure("node:big refused the question (busy): Busy", false, null);
        case "timeout" -> throw new Failure("node:big did not answer within 5000 ms", true, null);
        case "hold" -> {
          entered.countDown();
          release.await(10, TimeUnit.SECONDS);
        }
        default -> {}
      }
      return new Answered("the big model's text", values, Source.MODEL, Optional.of(BIG), 12);
    }
  }

  private static Answerer.Outcome ask(Answerer a) throws Exception {
    return a.answer(Question.of("Why is press 3 hot?"), NOW.plusSeconds(30), t -> {});
  }

  @Test
  void lowConfidence_targetAnswers_answerSaysWhereItCameFrom() throws Exception {
    ScriptedTarget target = new ScriptedTarget();
    var a = new EscalatingAnswerer(local(0.1), settings(2), target, CLOCK);

    Answerer.Outcome out = ask(a);

    assertThat(out.text()).isEqualTo("the big model's text");
    assertThat(out.answeredBy()).isEqualTo("node:big");
    assertThat(out.model()).contains(BIG);
    assertThat(out.escalation().orElseThrow().trigger()).isEqualTo("low_confidence");
    assertThat(out.escalation().orElseThrow().note()).isNull();
    assertThat(
            a.count(EscalationDecision.Trigger.LOW_CONFIDENCE, EscalatingAnswerer.Outcome.ANSWERED))
        .isEqualTo(1);
  }

  @Test
  void sensorOutsideTheAllowList_isNeverGivenToTheTarget() throws Exception {
    ScriptedTarget target = new ScriptedTarget();
    var a = new EscalatingAnswerer(local(0.1), settings(2), target, CLOCK);

    ask(a);

    assertThat(target.sent)
        .singleElement()
        .satisfies(
            values ->
                assertThat(values)
                    .extracting(SensorCitation::sensor)
                    .containsExactly("press3.oil_temp"));
  }

  @Test
  void confidentAnswer_targetIsNeverAsked() throws Exception {
    ScriptedTarget target = new ScriptedTarget();
    var a = new EscalatingAnswerer(local(0.9), settings(2), target, CLOCK);

    Answerer.Outcome out = ask(a);

    assertThat(target.sent).isEmpty();
    assertThat(out.answeredBy()).isEqualTo("local");
    assertThat(out.escalation()).isEmpty();
  }

  @Test
  void targetFails_operatorGetsTheLocalAnswerWithANote() throws Exception {
    ScriptedTarget target = new ScriptedTarget();
    target.mode = "fail";
    var a = new EscalatingAnswerer(local(0.1), settings(2), target, CLOCK);

    Answerer.Outcome out = ask(a);

    assertThat(out.text()).isEqualTo("local text");
    assertThat(out.answeredBy()).isEqualTo("local");
    assertThat(out.escalation().orElseThrow().note())
        .isEqualTo("node:big refused the question (busy): Busy; this is the node's own answer");
    assertThat(
            a.count(EscalationDecision.Trigger.LOW_CONFIDENCE, EscalatingAnswerer.Outcome.FAILED))
        .isEqualTo(1);
  }

  @Test
  void targetTimesOut_operatorGetsTheLocalAnswerWithANote() throws Exception {
    ScriptedTarget target = new ScriptedTarget();
    target.mode = "timeout";
    var a = new EscalatingAnswerer(local(0.1), settings(2), target, CLOCK);

    Answerer.Outcome out = ask(a);

    assertThat(out.text()).isEqualTo("local text");
    assertThat(out.escalation().orElseThrow().note()).contains("did not answer within 5000 ms");
    assertThat(
            a.count(EscalationDecision.Trigger.LOW_CONFIDENCE, EscalatingAnswerer.Outcome.TIMEOUT))
        .isEqualTo(1);
  }

  @Test
  void moreEscalationsThanTheBound_answerLocallyAtOnce_withANote() throws Exception {
    ScriptedTarget target = new ScriptedTarget();
    target.mode = "hold";
    var a = new EscalatingAnswerer(local(0.1), settings(1), target, CLOCK);
    Thread first =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    ask(a);
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
    assertThat(target.entered.await(10, TimeUnit.SECONDS)).isTrue();

    Answerer.Outcome second = ask(a);

    target.release.countDown();
    first.join();
    assertThat(second.answeredBy()).isEqualTo("local");
    assertThat(second.escalation().orElseThrow().note())
        .startsWith("1 escalations were already waiting (edgeslm.agent.escalation.max-concurrent)");
    assertThat(target.sent).hasSize(1);
    assertThat(a.count(EscalationDecision.Trigger.LOW_CONFIDENCE, EscalatingAnswerer.Outcome.BUSY))
        .isEqualTo(1);
  }

  @Test
  void questionDeadlineAlreadyNear_targetIsNotAsked_localAnswerWithNote() throws Exception {
    ScriptedTarget target = new ScriptedTarget();
    var a = new EscalatingAnswerer(local(0.1), settings(2), target, CLOCK);

    Answerer.Outcome out =
        a.answer(Question.of("Why is press 3 hot?"), NOW.plusMillis(100), t -> {});

    assertThat(target.sent).isEmpty();
    assertThat(out.escalation().orElseThrow().note()).startsWith("no time was left");
  }
}
