package io.edgeslm.agent.internal.tasks;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The latest value of one sensor, as the operator Q&A task sees it.
 *
 * @param sensor the sensor id, 1..128 characters
 * @param aliases names operators use for it ("Press 3 oil temperature"), at most 8; the first is
 *     its display name
 * @param value the latest value (finite)
 * @param unit its unit, or null
 * @param normal the normal range, or null if none is configured
 * @param readAt when the value was measured
 * @param staleReason why the value is no longer current (its source went offline, messages were
 *     lost), or null when it is current
 */
public record SensorState(
    String sensor,
    List<String> aliases,
    double value,
    String unit,
    NormalRange normal,
    Instant readAt,
    String staleReason) {

  /** A current value. */
  public SensorState(
      String sensor,
      List<String> aliases,
      double value,
      String unit,
      NormalRange normal,
      Instant readAt) {
    this(sensor, aliases, value, unit, normal, readAt, null);
  }

  public SensorState {
    Objects.requireNonNull(sensor, "sensor");
    if (sensor.isBlank() || sensor.length() > 128) {
      throw new IllegalArgumentException(
          "sensor id must have 1..128 non-blank characters, got '" + sensor + "'");
    }
    aliases = List.copyOf(Objects.requireNonNull(aliases, "aliases"));
    if (aliases.size() > 8 || aliases.stream().anyMatch(a -> a.isBlank() || a.length() > 128)) {
      throw new IllegalArgumentException(
          "A sensor has at most 8 aliases of 1..128 characters: " + sensor);
    }
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("value of " + sensor + " must be finite, got " + value);
    }
    if (unit != null && unit.length() > 32) {
      throw new IllegalArgumentException("unit may have at most 32 characters: '" + unit + "'");
    }
    Objects.requireNonNull(readAt, "readAt");
    if (staleReason != null && (staleReason.isBlank() || staleReason.length() > 200)) {
      throw new IllegalArgumentException("a stale reason has 1..200 characters: " + sensor);
    }
  }

  /** Whether the value is no longer current. */
  public boolean isStale() {
    return staleReason != null;
  }

  /** The first alias, or the id when there is none. */
  public String displayName() {
    return aliases.isEmpty() ? sensor : aliases.get(0);
  }
}
