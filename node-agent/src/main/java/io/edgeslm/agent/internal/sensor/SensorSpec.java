package io.edgeslm.agent.internal.sensor;

import java.util.Objects;

/**
 * One configured sensor, validated.
 *
 * @param id the configuration key, used as the sensor's id in answers and reports
 * @param topic the MQTT topic its values arrive on (no wildcards)
 * @param unit unit written after values ({@code ""} when unitless)
 * @param alias the human name used in answers
 * @param normalMin lower end of the normal range, inclusive
 * @param normalMax upper end of the normal range, inclusive, greater than {@code normalMin}
 * @param window samples kept, at least 2
 */
public record SensorSpec(
    String id,
    String topic,
    String unit,
    String alias,
    double normalMin,
    double normalMax,
    int window) {

  public SensorSpec {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(unit, "unit");
    Objects.requireNonNull(alias, "alias");
    if (!(Double.isFinite(normalMin) && Double.isFinite(normalMax) && normalMin < normalMax)) {
      throw new IllegalArgumentException(
          "sensor "
              + id
              + ": normal range must be finite with min < max: got ["
              + normalMin
              + ", "
              + normalMax
              + "]");
    }
    if (window < 2) {
      throw new IllegalArgumentException(
          "sensor " + id + ": window must hold at least 2 samples: got " + window);
    }
  }

  /** Whether {@code value} lies in the normal range. */
  public boolean isNormal(double value) {
    return value >= normalMin && value <= normalMax;
  }
}
