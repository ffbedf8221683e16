package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.time.Duration;

/**
 * The runtime check a wave must pass after its soak time before the rollout advances. It compares,
 * on the same nodes, the new model's health since install with the previous model's health in the
 * {@code baseline} period before the assignment. A criterion with no data on any node is not
 * checked; {@link #minMeasuredPercent} keeps a wave from passing on too few measurements.
 *
 * @param soak how long the new model serves before the gate is evaluated
 * @param baseline how far back before the assignment the previous model's health is read
 * @param minTokensPerSecondRatio the median of new/old tokens per second must be at least this
 * @param maxP95LatencyRatio the median of new/old p95 latency must be at most this
 * @param maxErrorRateIncrease the mean of (new − old) error rate must be at most this (absolute,
 *     e.g. 0.02 = two percentage points)
 * @param minActivationScore the lowest activation-check score on any node must be at least this
 * @param minMeasuredPercent share of installed nodes that must have reported health on the new
 *     model
 * @param dataTimeout how long after the soak to wait for that share before failing the gate
 */
public record HealthGate(
    Duration soak,
    Duration baseline,
    double minTokensPerSecondRatio,
    double maxP95LatencyRatio,
    double maxErrorRateIncrease,
    double minActivationScore,
    double minMeasuredPercent,
    Duration dataTimeout) {

  /** A gate that tolerates a 10% slowdown, 25% more latency and one point more errors. */
  public static HealthGate standard(Duration soak) {
    return new HealthGate(soak, Duration.ofHours(1), 0.9, 1.25, 0.01, 0.0, 80, Duration.ofHours(1));
  }

  public HealthGate {
    positive("soak", soak);
    positive("baseline", baseline);
    positive("dataTimeout", dataTimeout);
    Checks.range("minTokensPerSecondRatio", minTokensPerSecondRatio, 0, 100);
    Checks.range("maxP95LatencyRatio", maxP95LatencyRatio, 0.01, 1000);
    Checks.range("maxErrorRateIncrease", maxErrorRateIncrease, 0, 1);
    Checks.range("minActivationScore", minActivationScore, 0, 1);
    Checks.range("minMeasuredPercent", minMeasuredPercent, 0, 100);
  }

  private static void positive(String field, Duration d) {
    Checks.required(field, d);
    Checks.check(
        !d.isNegative() && !d.isZero(),
        field + " must be positive: got " + d + ". Use an ISO-8601 duration such as PT30M.");
  }
}
