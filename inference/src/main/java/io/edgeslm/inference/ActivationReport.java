package io.edgeslm.inference;

import java.util.List;
import java.util.Locale;
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
   * <p>The message names the score and the failed cases with their expectations (from the
   * evaluation file), never a failure's {@link Failure#detail}: that quotes the model's output,
   * which is untrusted text (a model that fails its check may emit anything, control characters
   * included) and ends up in logs, journals and results. The details stay in {@link #failures}.
   *
   * @throws ActivationFailedException naming the score and the first failed cases otherwise
   */
  public void requirePassing() throws ActivationFailedException {
    if (passing()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(3, failures.size()); i++) {
      Failure f = failures.get(i);
      sb.append(i == 0 ? "" : "; ")
          .append(printable(f.caseId()))
          .append(" (")
          .append(printable(f.expectation()))
          .append(')');
    }
    if (failures.size() > 3) {
      sb.append("; and ").append(failures.size() - 3).append(" more");
    }
    throw new ActivationFailedException(
        String.format(
            Locale.ROOT,
            "The model scored %.2f (%d of %d cases) in its activation check, below the required"
                + " %.2f; it does not take traffic. Failed cases: %s. Check the model and its"
                + " evaluation file.",
            score,
            passed,
            total,
            minScore,
            sb.length() == 0 ? "none listed" : sb),
        this);
  }

  /** {@code s} with control characters as {@code \\uXXXX} and at most 200 characters. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    s.codePoints()
        .limit(200)
        .forEach(
            c -> {
              if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029) {
                b.append(String.format(Locale.ROOT, "\\u%04X", c));
              } else {
                b.appendCodePoint(c);
              }
            });
    return b.toString();
  }
}
