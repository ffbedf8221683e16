package io.edgeslm.inference;

import java.util.List;
import java.util.Objects;

/**
 * The result of an activation check.
 *
 * @param score passed / total, 0..1
 * @param passed cases whose output had every expected property
 * @param total cases run
 * @param minScore the score the evaluation file requires
 * @param failures one entry per failed expectation (a case may fail several)
 */
public record ActivationReport(
    double score, int passed, int total, double minScore, List<Failure> failures) {

  /** One expectation a case's output did not meet. */
  public record Failure(String caseId, String expectation, String detail) {
    public Failure {
      Objects.requireNonNull(caseId, "caseId");
      Objects.requireNonNull(expectation, "expectation");
      Objects.requireNonNull(detail, "detail");
    }
  }

  public ActivationReport {
    failures = List.copyOf(failures);
    if (total < 1 || passed < 0 || passed > total) {
      throw new IllegalArgumentException("passed must be in 0..total and total positive");
    }
    if (!(score >= 0 && score <= 1) || !(minScore >= 0 && minScore <= 1)) {
      throw new IllegalArgumentException("score and minScore must be in 0..1");
    }
  }

  public boolean passing() {
    return score >= minScore;
  }

  /**
   * Returns normally when the score reaches {@code minScore}.
   *
   * @throws ActivationFailedException naming the score and the first failures otherwise
   */
  public void requirePassing() throws ActivationFailedException {
    if (passing()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(3, failures.size()); i++) {
      Failure f = failures.get(i);
      sb.append(i == 0 ? "" : "; ")
          .append(f.caseId())
          .append(": ")
          .append(f.expectation())
          .append(" (")
          .append(f.detail())
          .append(')');
    }
    throw new ActivationFailedException(
        String.format(
            "The model scored %.2f (%d of %d cases) in its activation check, below the required"
                + " %.2f; it does not take traffic. Failures: %s. Check the model and its"
                + " evaluation file.",
            score, passed, total, minScore, sb),
        this);
  }
}
