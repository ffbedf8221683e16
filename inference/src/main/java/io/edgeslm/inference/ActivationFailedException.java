package io.edgeslm.inference;

import java.util.Objects;

/**
 * A model did not pass its activation check; it never received traffic. {@link #report()} holds the
 * score and every failure.
 */
public final class ActivationFailedException extends InferenceException {
  private static final long serialVersionUID = 1L;
  private final transient ActivationReport report;

  public ActivationFailedException(String message, ActivationReport report) {
    super(message);
    this.report = Objects.requireNonNull(report, "report");
  }

  public ActivationReport report() {
    return report;
  }
}
