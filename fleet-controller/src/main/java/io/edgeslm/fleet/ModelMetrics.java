package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;

/**
 * A node's health while serving one model over a period, aggregated from its health messages.
 *
 * @param samples health messages aggregated (at least 1)
 * @param tokensPerSecond mean generation speed, or null without model traffic
 * @param p95LatencyMs mean of the reported p95 latencies, or null without traffic
 * @param errorRate errors / requests over the period (counter deltas), or null without requests
 * @param activationScore the latest activation-check score, or null
 */
public record ModelMetrics(
    int samples,
    Double tokensPerSecond,
    Double p95LatencyMs,
    Double errorRate,
    Double activationScore) {

  public ModelMetrics {
    Checks.range("samples", samples, 1, Integer.MAX_VALUE);
  }
}
