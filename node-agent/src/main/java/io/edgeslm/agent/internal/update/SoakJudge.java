package io.edgeslm.agent.internal.update;

import java.util.Optional;

/**
 * Judges a new model during its soak period from health samples: pure and immutable, no clock, no
 * I/O. Each {@link #judge} returns the verdict and the judge to use for the next sample.
 *
 * <p>Fails the model on any worker restart (a crash), on {@code maxNotReady} consecutive samples
 * without a ready model, on an error rate above {@code maxErrorRate} once at least {@code
 * minRequests} requests ran, and on generation speed below {@code minSpeedRatio} of the previous
 * model's (when both were measured under load).
 *
 * @param start the sample taken right after the switch
 * @param baselineTokensPerSecond the previous model's speed under load, or 0 when unknown
 * @param notReady consecutive samples without a ready model so far
 */
public record SoakJudge(
    Limits limits, ModelRuntime.Sample start, double baselineTokensPerSecond, int notReady) {

  /** Thresholds. */
  public record Limits(
      int maxNotReady, double maxErrorRate, long minRequests, double minSpeedRatio) {

    public static Limits defaults() {
      return new Limits(3, 0.2, 5, 0.5);
    }
  }

  /** A judgement: the reason to roll back (empty while healthy), and the judge for what follows. */
  public record Verdict(Optional<String> failure, SoakJudge next) {}

  public SoakJudge(Limits limits, ModelRuntime.Sample start, double baselineTokensPerSecond) {
    this(limits, start, baselineTokensPerSecond, 0);
  }

  /** Judges one sample. */
  public Verdict judge(ModelRuntime.Sample s) {
    if (s.workerRestarts() > start.workerRestarts()) {
      return fail(
          "the new model's worker crashed "
              + (s.workerRestarts() - start.workerRestarts())
              + " time(s) during the soak period");
    }
    int nr = s.ready() ? 0 : notReady + 1;
    SoakJudge next = new SoakJudge(limits, start, baselineTokensPerSecond, nr);
    if (nr >= limits.maxNotReady()) {
      return fail("the new model was not ready for " + nr + " consecutive health samples");
    }
    long requests = s.requests() - start.requests();
    long failures = s.failures() - start.failures();
    if (requests >= limits.minRequests()) {
      double rate = (double) failures / requests;
      if (rate > limits.maxErrorRate()) {
        return fail(
            String.format(
                "error rate %.0f%% (%d of %d requests) exceeds the %.0f%% limit",
                rate * 100, failures, requests, limits.maxErrorRate() * 100));
      }
      if (baselineTokensPerSecond > 0
          && s.tokensPerSecond() > 0
          && s.tokensPerSecond() < limits.minSpeedRatio() * baselineTokensPerSecond) {
        return fail(
            String.format(
                "generation speed %.1f tokens/s is below %.0f%% of the previous model's %.1f",
                s.tokensPerSecond(), limits.minSpeedRatio() * 100, baselineTokensPerSecond));
      }
    }
    return new Verdict(Optional.empty(), next);
  }

  private Verdict fail(String why) {
    return new Verdict(Optional.of(why), this);
  }
}
