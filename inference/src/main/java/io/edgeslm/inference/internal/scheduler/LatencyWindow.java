package io.edgeslm.inference.internal.scheduler;

import java.time.Duration;
import java.util.Arrays;

/** The last N time-to-first-token and tokens/s figures, in a fixed ring. Not thread-safe. */
public final class LatencyWindow {
  private final long[] ttftNanos;
  private final double[] tps;
  private int size;
  private int next;

  public LatencyWindow(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive");
    }
    ttftNanos = new long[capacity];
    tps = new double[capacity];
  }

  public void add(Duration ttft, double tokensPerSecond) {
    ttftNanos[next] = ttft.toNanos();
    tps[next] = tokensPerSecond;
    next = (next + 1) % ttftNanos.length;
    size = Math.min(size + 1, ttftNanos.length);
  }

  /** Nearest-rank percentile, {@code p} in (0, 1]; zero when empty. */
  public Duration ttftPercentile(double p) {
    if (size == 0) {
      return Duration.ZERO;
    }
    long[] sorted = Arrays.copyOf(ttftNanos, size);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p * size);
    return Duration.ofNanos(sorted[Math.max(0, Math.min(size - 1, rank - 1))]);
  }

  /** Mean of the non-zero speeds; zero when there are none. */
  public double meanTokensPerSecond() {
    double sum = 0;
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (tps[i] > 0) {
        sum += tps[i];
        n++;
      }
    }
    return n == 0 ? 0 : sum / n;
  }
}
