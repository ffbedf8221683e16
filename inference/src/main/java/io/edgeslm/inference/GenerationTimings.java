package io.edgeslm.inference;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-request measurements.
 *
 * @param queued time from submission to dispatch to the engine (zero outside the scheduler)
 * @param timeToFirstToken time from dispatch to the first token reaching the host
 * @param generation time from the first token to the last
 * @param tokensPerSecond generated tokens after the first divided by {@code generation}; 0 when
 *     fewer than two tokens were generated
 */
public record GenerationTimings(
    Duration queued, Duration timeToFirstToken, Duration generation, double tokensPerSecond) {

  public GenerationTimings {
    Objects.requireNonNull(queued, "queued");
    Objects.requireNonNull(timeToFirstToken, "timeToFirstToken");
    Objects.requireNonNull(generation, "generation");
    if (queued.isNegative() || timeToFirstToken.isNegative() || generation.isNegative()) {
      throw new IllegalArgumentException("Timings cannot be negative");
    }
    if (!(tokensPerSecond >= 0) || Double.isInfinite(tokensPerSecond)) {
      throw new IllegalArgumentException("tokensPerSecond must be finite and >= 0");
    }
  }

  /** The same timings with the queue wait replaced. */
  public GenerationTimings withQueued(Duration q) {
    return new GenerationTimings(q, timeToFirstToken, generation, tokensPerSecond);
  }
}
