package io.edgeslm.agent.internal.qa;

import io.edgeslm.agent.internal.escalation.EscalationDecision;
import io.edgeslm.protocol.AnswerEscalation;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Source;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Consumer;

/** Produces the answer to one accepted question, from the model or from the rules. */
public interface Answerer {

  /**
   * A finished answer.
   *
   * @param text the whole answer
   * @param citations the sensor values it relied on
   * @param source model or rules
   * @param model the model, exactly when {@code source} is model
   * @param firstTokenNanos {@link System#nanoTime()} of the first generated text, if any
   * @param tokens generated tokens (0 for rules)
   * @param stats what the escalation policy judges: task, token confidence, validity
   * @param answeredBy {@code local}, {@code node:<id>} or {@code endpoint:<name>}
   * @param escalation present when the question was handed on, or was meant to be
   * @param adapter the LoRA adapter applied on top of {@code model} for this answer, if one was
   */
  record Outcome(
      String text,
      List<SensorCitation> citations,
      Source source,
      Optional<ModelRef> model,
      Optional<Long> firstTokenNanos,
      int tokens,
      EscalationDecision.AnswerStats stats,
      String answeredBy,
      Optional<AnswerEscalation> escalation,
      Optional<ModelRef> adapter) {
    public Outcome {
      Objects.requireNonNull(text, "text");
      citations = List.copyOf(citations);
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(firstTokenNanos, "firstTokenNanos");
      Objects.requireNonNull(stats, "stats");
      Objects.requireNonNull(answeredBy, "answeredBy");
      Objects.requireNonNull(escalation, "escalation");
      adapter = adapter == null ? Optional.empty() : adapter;
    }

    /** An outcome without an adapter (the base model alone, rules, or another node's answer). */
    public Outcome(
        String text,
        List<SensorCitation> citations,
        Source source,
        Optional<ModelRef> model,
        Optional<Long> firstTokenNanos,
        int tokens,
        EscalationDecision.AnswerStats stats,
        String answeredBy,
        Optional<AnswerEscalation> escalation) {
      this(
          text,
          citations,
          source,
          model,
          firstTokenNanos,
          tokens,
          stats,
          answeredBy,
          escalation,
          Optional.empty());
    }

    /** A local answer with nothing for the escalation policy to judge. */
    public Outcome(
        String text,
        List<SensorCitation> citations,
        Source source,
        Optional<ModelRef> model,
        Optional<Long> firstTokenNanos,
        int tokens) {
      this(
          text,
          citations,
          source,
          model,
          firstTokenNanos,
          tokens,
          new EscalationDecision.AnswerStats("sensor-values", OptionalDouble.empty(), true),
          LOCAL,
          Optional.empty());
    }
  }

  /** {@code answeredBy} of the node's own answers. */
  String LOCAL = "local";

  /** The question cannot be answered now; the code and message go to the asker. */
  final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;
    private final transient Optional<Duration> retryAfter;

    public Refusal(ErrorCode code, String message, Optional<Duration> retryAfter, Throwable cause) {
      super(message, cause);
      this.code = Objects.requireNonNull(code, "code");
      this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
    }

    public ErrorCode code() {
      return code;
    }

    public Optional<Duration> retryAfter() {
      return retryAfter;
    }
  }

  /**
   * Answers {@code question}.
   *
   * @param question the validated question
   * @param deadline when the asker stops waiting; work past it should be cancelled
   * @param partial receives new text as it is generated (may never be called)
   * @throws Refusal busy, timeout, unavailable or internal
   */
  Outcome answer(Question question, Instant deadline, Consumer<String> partial) throws Refusal;
}
