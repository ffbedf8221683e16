package io.edgeslm.agent.internal.escalation;

import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Source;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Where an escalated question goes: the I/O half of escalation, one call per question. */
public interface EscalationTarget {

  /** {@code node:<id>} or {@code endpoint:<name>}, as answers name it in {@code answeredBy}. */
  String label();

  /**
   * The target's answer.
   *
   * @param text the answer text
   * @param citations the sensor values it cites
   * @param source the target's own source (model or rules)
   * @param model the model that wrote it, when {@code source} is model
   * @param tokens tokens it generated (0 when unknown)
   */
  record Answered(
      String text,
      List<SensorCitation> citations,
      Source source,
      Optional<ModelRef> model,
      int tokens) {
    public Answered {
      Objects.requireNonNull(text, "text");
      citations = List.copyOf(citations);
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(model, "model");
    }
  }

  /** The target did not answer: it failed, refused or took too long. */
  final class Failure extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean timedOut;

    public Failure(String message, boolean timedOut, Throwable cause) {
      super(message, cause);
      this.timedOut = timedOut;
    }

    /** Whether the target ran out of time (else it failed or refused). */
    public boolean timedOut() {
      return timedOut;
    }
  }

  /**
   * Asks the target.
   *
   * @param question the operator's question, as asked
   * @param values the sensor values the policy lets go along (nothing else is sent)
   * @param timeout longest wait for the answer
   * @throws Failure when no answer came in time, or the target refused or failed
   */
  Answered ask(String question, List<SensorCitation> values, Duration timeout)
      throws Failure, InterruptedException;
}
