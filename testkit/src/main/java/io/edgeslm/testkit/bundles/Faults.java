package io.edgeslm.testkit.bundles;

import java.time.Duration;
import java.util.Objects;

/**
 * What the {@link BundleServer} does wrong on purpose, per chunk it serves. Each probability is
 * drawn independently from a generator seeded with {@code seed}, so a failing run can be repeated.
 *
 * @param drop probability that a chunk is not sent at all (the node must ask again)
 * @param duplicate probability that a chunk is sent twice
 * @param corrupt probability that one byte of the chunk is flipped before sending (the node's
 *     per-chunk SHA-256 check must refuse it)
 * @param delay probability that a chunk is held back for up to {@code maxDelay} (reordering)
 * @param maxDelay the longest hold-back
 * @param seed seed of the generator
 */
public record Faults(
    double drop, double duplicate, double corrupt, double delay, Duration maxDelay, long seed) {

  /** A well-behaved server. */
  public static final Faults NONE = new Faults(0, 0, 0, 0, Duration.ZERO, 1);

  public Faults {
    probability("drop", drop);
    probability("duplicate", duplicate);
    probability("corrupt", corrupt);
    probability("delay", delay);
    Objects.requireNonNull(maxDelay, "maxDelay");
    if (maxDelay.isNegative() || maxDelay.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException(
          "maxDelay must be between 0 and 1 minute: got " + maxDelay + ". Use a shorter delay.");
    }
  }

  /** Every kind of fault with the same probability, delays up to 200 ms. */
  public static Faults everyKind(double probability, long seed) {
    return new Faults(
        probability, probability, probability, probability, Duration.ofMillis(200), seed);
  }

  private static void probability(String name, double p) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException(
          name + " must be a probability in [0, 1): got " + p + ". Use for example 0.05.");
    }
  }
}
