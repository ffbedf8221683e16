package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;

/**
 * One out-of-bounds observation in a sensor report.
 *
 * @param sensor the sensor's id (at most 128 characters)
 * @param value the observed value (finite)
 * @param unit its unit (at most 32 characters); optional
 * @param rule the id of the detection rule that fired, e.g. {@code max}, {@code rate}, {@code
 *     zscore} (at most 64 characters)
 * @param detail a short explanation (at most 300 characters)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Anomaly(
    String sensor,
    @JsonProperty(required = true) double value,
    String unit,
    String rule,
    String detail) {

  /** Longest {@code detail}, also stated by the published schema. */
  public static final int MAX_DETAIL_CHARS = 300;

  public Anomaly {
    Checks.text("anomaly.sensor", sensor, 128);
    Checks.finite("anomaly.value", value);
    unit = unit == null ? null : Checks.boundedText("anomaly.unit", unit, 32);
    Checks.text("anomaly.rule", rule, 64);
    Checks.text("anomaly.detail", detail, MAX_DETAIL_CHARS);
  }
}
