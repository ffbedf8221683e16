package io.edgeslm.agent.internal.tasks;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The readings of one sensor over a report window, with its configuration.
 *
 * @param sensor the sensor id, 1..128 characters
 * @param unit its unit (at most 32 characters), or null
 * @param normal the configured normal range
 * @param maxRatePerSecond largest normal change per second (absolute), or null for no rate rule
 * @param samples readings, at least one and at most {@value #MAX_SAMPLES}; sorted by time here
 */
public record SensorWindow(
    String sensor,
    String unit,
    NormalRange normal,
    Double maxRatePerSecond,
    List<SensorSample> samples) {

  public static final int MAX_SAMPLES = 10_000;

  public SensorWindow {
    Objects.requireNonNull(sensor, "sensor");
    if (sensor.isBlank() || sensor.length() > 128) {
      throw new IllegalArgumentException(
          "sensor id must have 1..128 non-blank characters, got '" + sensor + "'");
    }
    if (unit != null && unit.length() > 32) {
      throw new IllegalArgumentException("unit may have at most 32 characters: '" + unit + "'");
    }
    Objects.requireNonNull(normal, "normal");
    if (maxRatePerSecond != null && !(maxRatePerSecond > 0 && Double.isFinite(maxRatePerSecond))) {
      throw new IllegalArgumentException(
          "maxRatePerSecond must be positive and finite, got " + maxRatePerSecond);
    }
    Objects.requireNonNull(samples, "samples");
    if (samples.isEmpty() || samples.size() > MAX_SAMPLES) {
      throw new IllegalArgumentException(
          "A window needs 1.."
              + MAX_SAMPLES
              + " samples, got "
              + samples.size()
              + " for "
              + sensor);
    }
    samples = samples.stream().sorted(Comparator.comparing(SensorSample::at)).toList();
  }

  /** The most recent sample. */
  public SensorSample latest() {
    return samples.get(samples.size() - 1);
  }
}
