package io.edgeslm.agent.internal.tasks;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds and sampling of one model-backed task run.
 *
 * @param nPredict tokens the model may generate, 1..4096
 * @param deadline time allowed for the run, queueing included
 * @param contextTokens tokens of sensor context the prompt may carry, 64..32,768 (Q&A)
 * @param temperature sampling temperature, 0 (greedy) .. 2
 * @param seed sampling seed, or -1 for a random one
 */
public record TaskLimits(
    int nPredict, Duration deadline, int contextTokens, double temperature, int seed) {
  public TaskLimits {
    if (nPredict < 1 || nPredict > 4096) {
      throw new IllegalArgumentException("nPredict must be in 1..4096, was " + nPredict);
    }
    Objects.requireNonNull(deadline, "deadline");
    if (deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("deadline must be positive, was " + deadline);
    }
    if (contextTokens < 64 || contextTokens > 32_768) {
      throw new IllegalArgumentException(
          "contextTokens must be in 64..32768, was " + contextTokens);
    }
    if (!(temperature >= 0 && temperature <= 2)) {
      throw new IllegalArgumentException("temperature must be in 0..2, was " + temperature);
    }
    if (seed < -1) {
      throw new IllegalArgumentException("seed must be -1 (random) or >= 0, was " + seed);
    }
  }

  /** Reports: 256 tokens within 120 s, greedy. */
  public static TaskLimits reportDefaults() {
    return new TaskLimits(256, Duration.ofSeconds(120), 1024, 0, 0);
  }

  /**
   * Q&A: 160 tokens within 60 s, 1024 tokens of prompt context (instructions, site notes, sensor
   * catalogue and live values), temperature 0.2.
   */
  public static TaskLimits qaDefaults() {
    return new TaskLimits(160, Duration.ofSeconds(60), 1024, 0.2, -1);
  }

  public TaskLimits withNPredict(int n) {
    return new TaskLimits(n, deadline, contextTokens, temperature, seed);
  }

  public TaskLimits withContextTokens(int n) {
    return new TaskLimits(nPredict, deadline, n, temperature, seed);
  }

  public TaskLimits withSampling(double temp, int newSeed) {
    return new TaskLimits(nPredict, deadline, contextTokens, temp, newSeed);
  }
}
