package io.edgeslm.agent.internal.tasks;

import java.time.Instant;
import java.util.Objects;

/**
 * One reading in a sensor window.
 *
 * @param at when it was measured
 * @param value the measurement (finite)
 */
public record SensorSample(Instant at, double value) {
  public SensorSample {
    Objects.requireNonNull(at, "at");
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("A sensor sample must be finite, got " + value);
    }
  }
}
