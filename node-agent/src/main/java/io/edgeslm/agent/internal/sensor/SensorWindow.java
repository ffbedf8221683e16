package io.edgeslm.agent.internal.sensor;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A bounded rolling window of one sensor's samples: a ring buffer of {@code capacity} entries, the
 * oldest overwritten first. Memory is fixed at construction, whatever the publish rate.
 * Thread-safe.
 */
public final class SensorWindow {

  /**
   * One sample.
   *
   * @param at when it was measured (or received, when the reading had no time)
   * @param value the value, finite
   */
  public record Sample(Instant at, double value) {
    public Sample {
      Objects.requireNonNull(at, "at");
      if (!Double.isFinite(value)) {
        throw new IllegalArgumentException("sample value must be finite: got " + value);
      }
    }
  }

  private volatile SensorSpec spec;
  private String staleReason;
  private final Instant[] times;
  private final double[] values;
  private int next;
  private int count;
  private long total;

  public SensorWindow(SensorSpec spec) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.times = new Instant[spec.window()];
    this.values = new double[spec.window()];
  }

  public SensorSpec spec() {
    return spec;
  }

  /**
   * Replaces the definition of a discovered sensor (a new birth certificate). Samples are kept when
   * the unit is unchanged and dropped otherwise, so that no value is shown in a wrong unit.
   */
  public synchronized void redefine(SensorSpec newSpec) {
    if (!newSpec.id().equals(spec.id()) || newSpec.window() != spec.window()) {
      throw new IllegalArgumentException("a redefinition keeps id and window: " + newSpec.id());
    }
    if (!newSpec.unit().equals(spec.unit())) {
      next = 0;
      count = 0;
    }
    spec = newSpec;
  }

  /**
   * Marks the newest value as no longer current (its source went offline, or messages were lost)
   * until the next sample arrives.
   *
   * @param reason why, in words for the operator ("the edge node went offline")
   */
  public synchronized void markStale(String reason) {
    staleReason = java.util.Objects.requireNonNull(reason, "reason");
  }

  /** Why the newest value is stale, or empty when it is current. */
  public synchronized Optional<String> staleReason() {
    return Optional.ofNullable(staleReason);
  }

  /** Adds a sample, overwriting the oldest when full. */
  public synchronized void add(Sample sample) {
    times[next] = sample.at();
    values[next] = sample.value();
    next = (next + 1) % times.length;
    count = Math.min(count + 1, times.length);
    total++;
    staleReason = null;
  }

  /** The newest sample, if any. */
  public synchronized Optional<Sample> latest() {
    if (count == 0) {
      return Optional.empty();
    }
    int i = (next - 1 + times.length) % times.length;
    return Optional.of(new Sample(times[i], values[i]));
  }

  /** The samples held, oldest first, and the stale reason, read together. */
  public synchronized Contents contents() {
    return new Contents(samples(), Optional.ofNullable(staleReason));
  }

  /**
   * A window's samples with its stale mark.
   *
   * @param samples oldest first
   * @param staleReason why the newest sample is no longer current, or empty
   */
  public record Contents(List<Sample> samples, Optional<String> staleReason) {}

  /** The samples held, oldest first. */
  public synchronized List<Sample> samples() {
    List<Sample> out = new ArrayList<>(count);
    int start = (next - count + times.length) % times.length;
    for (int k = 0; k < count; k++) {
      int i = (start + k) % times.length;
      out.add(new Sample(times[i], values[i]));
    }
    return out;
  }

  /** Samples received since start, including overwritten ones. */
  public synchronized long total() {
    return total;
  }
}
