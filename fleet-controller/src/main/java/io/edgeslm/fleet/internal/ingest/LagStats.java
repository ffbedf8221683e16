package io.edgeslm.fleet.internal.ingest;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock-free histogram of latencies in milliseconds (1 ms buckets up to one minute, one overflow
 * bucket), for exact percentiles of heartbeat ingest lag.
 */
public final class LagStats {

  private static final int MAX_MS = 60_000;
  private final AtomicLongArray buckets = new AtomicLongArray(MAX_MS + 1);

  public void record(long millis) {
    buckets.incrementAndGet((int) Math.max(0, Math.min(MAX_MS, millis)));
  }

  public long count() {
    long n = 0;
    for (int i = 0; i <= MAX_MS; i++) {
      n += buckets.get(i);
    }
    return n;
  }

  /**
   * The {@code q} quantile in ms (0 < q ≤ 1), or 0 without samples; 60000 means "a minute or more".
   */
  public long quantile(double q) {
    long total = count();
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i <= MAX_MS; i++) {
      seen += buckets.get(i);
      if (seen >= rank) {
        return i;
      }
    }
    return MAX_MS;
  }

  public void reset() {
    for (int i = 0; i <= MAX_MS; i++) {
      buckets.set(i, 0);
    }
  }
}
