package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;

/**
 * A sensor value an answer relied on.
 *
 * @param sensor the sensor's id (at most 128 characters)
 * @param value the value given to the model (finite)
 * @param unit its unit (at most 32 characters); optional
 * @param ageMs how old the value was when the answer was produced, in milliseconds (≥ 0)
 * @param stale {@code true} when the value was no longer current (its source went offline or
 *     messages from it were lost); absent when current
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SensorCitation(
    String sensor,
    @JsonProperty(required = true) double value,
    String unit,
    @JsonProperty(required = true) long ageMs,
    Boolean stale) {

  /** A current value. */
  public SensorCitation(String sensor, double value, String unit, long ageMs) {
    this(sensor, value, unit, ageMs, null);
  }

  public SensorCitation {
    Checks.text("sensor", sensor, 128);
    Checks.finite("value", value);
    unit = unit == null ? null : Checks.boundedText("unit", unit, 32);
    Checks.range("ageMs", ageMs, 0, Long.MAX_VALUE);
    stale = Boolean.TRUE.equals(stale) ? Boolean.TRUE : null;
  }
}
