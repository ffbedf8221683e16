package io.edgeslm.fleet.internal.chunk;

/**
 * A token bucket in bytes: {@link #acquire} waits until the bytes fit the rate. Burst is one
 * second's worth, so a pause does not let the next second send double.
 */
final class TokenBucket {

  private final long rate;
  private double tokens;
  private long last = System.nanoTime();

  TokenBucket(long bytesPerSecond) {
    if (bytesPerSecond < 1) {
      throw new IllegalArgumentException(
          "fleet.bundles.bytes-per-second must be at least 1: got "
              + bytesPerSecond
              + ". Set it to the chunk server's bandwidth in bytes per second"
              + " (FLEET_BUNDLES_BYTES_PER_SECOND; default 52428800).");
    }
    this.rate = bytesPerSecond;
    this.tokens = bytesPerSecond;
  }

  long rate() {
    return rate;
  }

  synchronized void acquire(long bytes) throws InterruptedException {
    refill();
    while (tokens < Math.min(bytes, rate)) {
      long waitNanos = (long) ((Math.min(bytes, rate) - tokens) / rate * 1e9);
      long ms = Math.max(1, waitNanos / 1_000_000);
      wait(ms);
      refill();
    }
    tokens -= bytes;
  }

  private void refill() {
    long now = System.nanoTime();
    tokens = Math.min(rate, tokens + (now - last) / 1e9 * rate);
    last = now;
  }
}
