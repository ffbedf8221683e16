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

  private final SensorSpec spec;
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

  /** Adds a sample, overwriting the oldest when full. */
  public synchronized void add(Sample sample) {
    times[next] = sample.at();
    values[next] = sample.value();
    next = (next + 1) % times.length;
    count = Math.min(count + 1, times.length);
    total++;
  }

  /** The newest sample, if any. */
  public synchronized Optional<Sample> latest() {
    if (count == 0) {
      return Optional.empty();
    }
    int i = (next - 1 + times.length) % times.length;
    return Optional.of(new Sample(times[i], values[i]));
  }

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
