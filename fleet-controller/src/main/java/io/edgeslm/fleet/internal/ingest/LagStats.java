package io.edgeslm.fleet.internal.ingest;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock-free histogram of latencies in milliseconds: 1 ms buckets up to one minute, 1 s buckets
 * from there up to a day, one overflow bucket; exact percentiles below a minute.
 */
public final class LagStats {

  private static final int FINE_MS = 60_000;
  private static final int COARSE = 86_400 - 60;
  private static final long MAX_MS = FINE_MS + COARSE * 1000L;
  private final AtomicLongArray buckets = new AtomicLongArray(FINE_MS + COARSE + 1);

  public void record(long millis) {
    buckets.incrementAndGet(index(millis));
  }

  private static int index(long millis) {
    if (millis < FINE_MS) {
      return (int) Math.max(0, millis);
    }
    return (int) (FINE_MS + Math.min(COARSE, (millis - FINE_MS) / 1000));
  }

  private static long lowerBound(int index) {
    return index <= FINE_MS ? index : FINE_MS + (index - FINE_MS) * 1000L;
  }

  public long count() {
    long n = 0;
    for (int i = 0; i < buckets.length(); i++) {
      n += buckets.get(i);
    }
    return n;
  }

  /**
   * The {@code q} quantile in ms (0 < q ≤ 1), or 0 without samples: exact below a minute, else the
   * whole second it falls in; {@value #MAX_MS} means "a day or more".
   */
  public long quantile(double q) {
    long total = count();
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < buckets.length(); i++) {
      seen += buckets.get(i);
      if (seen >= rank) {
        return lowerBound(i);
      }
    }
    return MAX_MS;
  }

  public void reset() {
    for (int i = 0; i < buckets.length(); i++) {
      buckets.set(i, 0);
    }
  }
}
