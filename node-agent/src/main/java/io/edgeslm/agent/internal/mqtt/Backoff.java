package io.edgeslm.agent.internal.mqtt;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with full jitter for connect attempts: attempt {@code n} (from 0) waits a
 * random time in {@code [d/2, d]} where {@code d = min(max, initial * 2^n)}. The jitter spreads a
 * fleet that lost the same broker so that it does not reconnect in one burst.
 *
 * @param initial delay before the second attempt, positive
 * @param max upper bound of any delay, at least {@code initial}
 */
public record Backoff(Duration initial, Duration max) {

  public Backoff {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "backoff needs 0 < initial <= max: got initial=" + initial + ", max=" + max);
    }
  }

  /**
   * The delay after failed attempt {@code attempt}.
   *
   * @param attempt 0-based count of failed attempts so far
   * @param random uniform in [0, 1)
   */
  public Duration delay(int attempt, DoubleSupplier random) {
    long ceiling = max.toMillis();
    long base = initial.toMillis();
    int shift = Math.min(Math.max(attempt, 0), 30);
    long d = base > (ceiling >> shift) ? ceiling : Math.min(ceiling, base << shift);
    double r = random.getAsDouble();
    return Duration.ofMillis(d / 2 + (long) ((d - d / 2) * r));
  }
}
