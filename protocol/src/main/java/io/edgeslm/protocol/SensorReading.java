package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * A plain sensor value as plant equipment publishes it on the configured sensor topics. Not an
 * EdgeSLM message, so it carries no schema version. Two forms are read:
 *
 * <ul>
 *   <li>a bare JSON number: {@code 71.5};
 *   <li>an object {@code {"value": 71.5, "unit": "°C", "ts": "2026-11-21T00:00:00Z"}} where {@code
 *       unit} and {@code ts} are optional and {@code ts} is an ISO-8601 instant or a number of
 *       milliseconds since the Unix epoch. Other fields are ignored.
 * </ul>
 *
 * It is written as the object form with {@code ts} as ISO-8601.
 *
 * @param value the measurement (finite)
 * @param unit its unit, at most 32 characters; optional
 * @param ts when it was measured; optional (the receiver then uses its arrival time)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SensorReading(double value, String unit, Instant ts) {

  public SensorReading {
    Checks.finite("value", value);
    unit = unit == null ? null : Checks.boundedText("unit", unit, 32);
  }

  /** A bare value. */
  public static SensorReading of(double value) {
    return new SensorReading(value, null, null);
  }

  /**
   * Reads either accepted form.
   *
   * @throws IllegalArgumentException naming the field and the rule broken
   */
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public static SensorReading fromJson(JsonNode node) {
    Checks.required("sensor reading", node);
    if (node.isNumber()) {
      return new SensorReading(node.doubleValue(), null, null);
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException(
          "A sensor reading must be a JSON number or an object with a numeric 'value': got "
              + Checks.quote(node)
              + ". Publish e.g. 71.5 or {\"value\":71.5,\"unit\":\"°C\"}.");
    }
    JsonNode value = node.get("value");
    if (value == null || !value.isNumber()) {
      throw new IllegalArgumentException(
          "value is required and must be a JSON number: got "
              + Checks.quote(value)
              + ". Publish e.g. {\"value\":71.5}.");
    }
    JsonNode unit = node.get("unit");
    if (unit != null && !unit.isNull() && !unit.isTextual()) {
      throw new IllegalArgumentException(
          "unit must be a string: got " + Checks.quote(unit) + ". Publish e.g. \"unit\":\"°C\".");
    }
    return new SensorReading(
        value.doubleValue(),
        unit == null || unit.isNull() ? null : unit.textValue(),
        timestamp(node.get("ts")));
  }

  private static Instant timestamp(JsonNode ts) {
    if (ts == null || ts.isNull()) {
      return null;
    }
    if (ts.isIntegralNumber() && ts.canConvertToLong()) {
      return Instant.ofEpochMilli(ts.longValue());
    }
    if (ts.isTextual()) {
      try {
        return Instant.parse(ts.textValue());
      } catch (DateTimeParseException e) {
        // fall through to the common message
      }
    }
    throw new IllegalArgumentException(
        "ts must be an ISO-8601 instant or integer epoch milliseconds: got "
            + Checks.quote(ts)
            + ". Publish e.g. \"ts\":\"2026-11-21T08:00:00Z\" or \"ts\":1795248000000.");
  }
}
