package io.edgeslm.agent.internal.sensor.uns;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * A value read from a Unified Namespace payload. Pure.
 *
 * @param value the value (finite)
 * @param unit the payload's unit, or null
 * @param at the payload's timestamp, or null
 */
public record UnsReading(double value, String unit, Instant at) {

  /**
   * Reads a payload: a JSON number (or boolean, as 1 and 0), an object {@code {"value": n, "unit":
   * "°C", "timestamp": "2026-…Z" | epoch-ms}} ({@code ts} is read like {@code timestamp}), or the
   * node at {@code pointer}.
   *
   * @throws IllegalArgumentException naming what was expected, when the payload has no number there
   */
  public static UnsReading of(JsonNode tree, String pointer) {
    if (pointer != null && !pointer.isEmpty()) {
      JsonNode n = tree.at(pointer);
      if (n.isMissingNode()) {
        throw new IllegalArgumentException("nothing at the JSON pointer " + pointer);
      }
      return new UnsReading(number(n, pointer), null, null);
    }
    if (tree.isObject()) {
      JsonNode v = tree.get("value");
      if (v == null) {
        throw new IllegalArgumentException("an object without \"value\"");
      }
      JsonNode unit = tree.get("unit");
      JsonNode ts = tree.has("timestamp") ? tree.get("timestamp") : tree.get("ts");
      return new UnsReading(
          number(v, "value"), unit != null && unit.isTextual() ? unit.asText() : null, time(ts));
    }
    return new UnsReading(number(tree, "the payload"), null, null);
  }

  private static double number(JsonNode n, String where) {
    double v;
    if (n.isNumber()) {
      v = n.asDouble();
    } else if (n.isBoolean()) {
      v = n.asBoolean() ? 1 : 0;
    } else {
      throw new IllegalArgumentException(where + " is not a number: " + n.getNodeType());
    }
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException(where + " is not finite");
    }
    return v;
  }

  private static Instant time(JsonNode ts) {
    if (ts == null || ts.isNull()) {
      return null;
    }
    if (ts.isIntegralNumber()) {
      return Instant.ofEpochMilli(ts.asLong());
    }
    if (ts.isTextual()) {
      try {
        return Instant.parse(ts.asText());
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("timestamp is not ISO-8601: " + ts.asText());
      }
    }
    throw new IllegalArgumentException("timestamp is neither ISO-8601 text nor epoch milliseconds");
  }
}
