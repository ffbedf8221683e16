package io.edgeslm.agent.internal.sensor;

import java.util.Objects;

/**
 * One configured sensor, validated.
 *
 * @param id the configuration key, used as the sensor's id in answers and reports
 * @param topic the MQTT topic its values arrive on (for a discovered metric: the topic it was
 *     defined on)
 * @param unit unit written after values ({@code ""} when unitless)
 * @param alias the human name used in answers
 * @param normalMin lower end of the normal range, inclusive; {@code NaN} together with {@code
 *     normalMax} when the sensor has no range (a discovered metric whose source gives none)
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
    boolean unranged = Double.isNaN(normalMin) && Double.isNaN(normalMax);
    if (!unranged
        && !(Double.isFinite(normalMin) && Double.isFinite(normalMax) && normalMin < normalMax)) {
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

  /** A sensor without a normal range. */
  public static SensorSpec unranged(
      String id, String topic, String unit, String alias, int window) {
    return new SensorSpec(id, topic, unit, alias, Double.NaN, Double.NaN, window);
  }

  /** Whether a normal range is known. */
  public boolean hasRange() {
    return !Double.isNaN(normalMin);
  }

  /** Whether {@code value} lies in the normal range; always true without a range. */
  public boolean isNormal(double value) {
    return !hasRange() || (value >= normalMin && value <= normalMax);
  }
}
