package io.edgeslm.inference;

import io.edgeslm.inference.internal.activation.EvaluationFile;
import io.edgeslm.inference.internal.activation.Evaluator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Proves a newly loaded model works before it takes traffic: runs a bundle's evaluation file
 * (prompts with expected properties) on the engine and scores the outputs. The JSON format is
 * documented in docs/inference.md.
 */
public final class ActivationCheck {
  /** Largest evaluation file read. */
  public static final int MAX_FILE_BYTES = 256 * 1024;

  /** Most cases in one file. */
  public static final int MAX_CASES = 64;

  private final List<EvaluationCase> cases;
  private final double minScore;
  private final Duration caseTimeout;

  private ActivationCheck(List<EvaluationCase> cases, double minScore, Duration caseTimeout) {
    this.cases = List.copyOf(cases);
    this.minScore = minScore;
    this.caseTimeout = caseTimeout;
  }

  /**
   * A check from cases built in code.
   *
   * @throws IllegalArgumentException if there are no cases or more than {@value #MAX_CASES}, ids
   *     repeat, or {@code minScore} is outside 0..1
   */
  public static ActivationCheck of(List<EvaluationCase> cases, double minScore) {
    Objects.requireNonNull(cases, "cases");
    if (cases.isEmpty() || cases.size() > MAX_CASES) {
      throw new IllegalArgumentException(
          "An activation check needs 1.." + MAX_CASES + " cases, got " + cases.size());
    }
    if (cases.stream().map(EvaluationCase::id).distinct().count() != cases.size()) {
      throw new IllegalArgumentException("Evaluation case ids must be unique");
    }
    if (!(minScore >= 0 && minScore <= 1)) {
      throw new IllegalArgumentException("minScore must be in 0..1, was " + minScore);
    }
    return new ActivationCheck(cases, minScore, Duration.ofSeconds(120));
  }

  /**
   * Reads an evaluation file.
   *
   * @throws ModelLoadException if the file is missing, larger than {@value #MAX_FILE_BYTES} bytes,
   *     or not a valid evaluation file (the message names the field and the rule)
   */
  public static ActivationCheck read(Path file) throws ModelLoadException {
    EvaluationFile.Parsed p = EvaluationFile.read(file);
    return of(p.cases(), p.minScore());
  }

  /** Parses evaluation-file JSON; see {@link #read(Path)}. */
  public static ActivationCheck parse(String json) throws ModelLoadException {
    EvaluationFile.Parsed p = EvaluationFile.parse(json, "(inline)");
    return of(p.cases(), p.minScore());
  }

  /** The same check with another per-case time bound (default 120 s). */
  public ActivationCheck withCaseTimeout(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("caseTimeout must be positive");
    }
    return new ActivationCheck(cases, minScore, timeout);
  }

  public List<EvaluationCase> cases() {
    return cases;
  }

  public double minScore() {
    return minScore;
  }

  /**
   * Runs every case on {@code engine}, one at a time. A case whose generation fails or times out
   * counts as failed (recorded in the report); the check itself fails only if the engine is gone.
   *
   * @throws EngineUnavailableException if the engine stops serving during the check
   */
  public ActivationReport run(InferenceEngine engine) throws InferenceException {
    return Evaluator.run(engine, cases, minScore, caseTimeout);
  }
}
