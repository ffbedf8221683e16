package io.edgeslm.agent.internal.qa;

import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/** The last {@code capacity} latencies, for percentiles over recent traffic. Thread-safe. */
public final class LatencyRecorder {

  private final long[] nanos;
  private int next;
  private int count;

  public LatencyRecorder(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: got " + capacity);
    }
    this.nanos = new long[capacity];
  }

  public synchronized void record(long latencyNanos) {
    nanos[next] = Math.max(0, latencyNanos);
    next = (next + 1) % nanos.length;
    count = Math.min(count + 1, nanos.length);
  }

  /** The {@code q}-quantile (nearest rank) of the recorded latencies, if any were recorded. */
  public synchronized Optional<Duration> percentile(double q) {
    if (count == 0) {
      return Optional.empty();
    }
    long[] copy = Arrays.copyOf(nanos, count);
    Arrays.sort(copy);
    int rank = (int) Math.ceil(q * count) - 1;
    return Optional.of(Duration.ofNanos(copy[Math.max(0, Math.min(count - 1, rank))]));
  }
}
