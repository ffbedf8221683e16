package io.edgeslm.agent.internal.update;

import java.util.Optional;

/**
 * Judges a new model during its soak period from health samples: pure, no clock, no I/O.
 *
 * <p>Fails the model on any worker restart (a crash), on {@code maxNotReady} consecutive samples
 * without a ready model, on an error rate above {@code maxErrorRate} once at least {@code
 * minRequests} requests ran, and on generation speed below {@code minSpeedRatio} of the previous
 * model's (when both were measured under load).
 */
public final class SoakJudge {

  /** Thresholds. */
  public record Limits(
      int maxNotReady, double maxErrorRate, long minRequests, double minSpeedRatio) {

    public static Limits defaults() {
      return new Limits(3, 0.2, 5, 0.5);
    }
  }

  private final Limits limits;
  private final ModelRuntime.Sample start;
  private final double baselineTokensPerSecond;
  private int notReady;

  /**
   * @param start the sample taken right after the switch
   * @param baselineTokensPerSecond the previous model's speed under load, or 0 when unknown
   */
  public SoakJudge(Limits limits, ModelRuntime.Sample start, double baselineTokensPerSecond) {
    this.limits = limits;
    this.start = start;
    this.baselineTokensPerSecond = baselineTokensPerSecond;
  }

  /** The reason to roll back, or empty while the model looks healthy. */
  public Optional<String> judge(ModelRuntime.Sample s) {
    if (s.workerRestarts() > start.workerRestarts()) {
      return Optional.of(
          "the new model's worker crashed "
              + (s.workerRestarts() - start.workerRestarts())
              + " time(s) during the soak period");
    }
    notReady = s.ready() ? 0 : notReady + 1;
    if (notReady >= limits.maxNotReady()) {
      return Optional.of(
          "the new model was not ready for " + notReady + " consecutive health samples");
    }
    long requests = s.requests() - start.requests();
    long failures = s.failures() - start.failures();
    if (requests >= limits.minRequests()) {
      double rate = (double) failures / requests;
      if (rate > limits.maxErrorRate()) {
        return Optional.of(
            String.format(
                "error rate %.0f%% (%d of %d requests) exceeds the %.0f%% limit",
                rate * 100, failures, requests, limits.maxErrorRate() * 100));
      }
      if (baselineTokensPerSecond > 0
          && s.tokensPerSecond() > 0
          && s.tokensPerSecond() < limits.minSpeedRatio() * baselineTokensPerSecond) {
        return Optional.of(
            String.format(
                "generation speed %.1f tokens/s is below %.0f%% of the previous model's %.1f",
                s.tokensPerSecond(), limits.minSpeedRatio() * 100, baselineTokensPerSecond));
      }
    }
    return Optional.empty();
  }
}
