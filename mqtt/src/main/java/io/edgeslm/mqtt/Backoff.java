package io.edgeslm.mqtt;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter between connect attempts: after failed attempt {@code n} (from 0)
 * the connection waits a random time in {@code [d/2, d]} where {@code d = min(max, initial * 2^n)}.
 * The jitter spreads a fleet that lost the same broker so that it does not come back in one burst
 * ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015, calls this "equal jitter"). Pure:
 * the random source is a parameter.
 *
 * @param initial delay after the first failure, positive
 * @param max upper bound of any delay, at least {@code initial}
 */
public record Backoff(Duration initial, Duration max) {

  /** 200 ms doubling up to 10 s. */
  public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));

  public Backoff {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "Backoff needs 0 < initial <= max: got initial="
              + initial
              + ", max="
              + max
              + ". Raise max or lower initial.");
    }
  }

  /**
   * The delay after failed attempt {@code attempt}.
   *
   * @param attempt count of failed attempts before this one, from 0; negative counts as 0
   * @param random a source of values in {@code [0, 1)}; values outside are clamped
   * @return a delay in {@code [d/2, d]}, never above {@link #max()}
   */
  public Duration delay(int attempt, DoubleSupplier random) {
    long ceiling = max.toMillis();
    long base = initial.toMillis();
    int shift = Math.min(Math.max(attempt, 0), 62);
    long d = base > (ceiling >> shift) ? ceiling : Math.min(ceiling, base << shift);
    double r = Math.min(1.0, Math.max(0.0, random.getAsDouble()));
    return Duration.ofMillis(d / 2 + (long) ((d - d / 2) * r));
  }
}
