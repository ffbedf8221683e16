package io.edgeslm.inference.internal.engine;

import java.time.Duration;

/**
 * When to restart a crashed or hung engine process, and when to give up: pure bookkeeping, no clock
 * (the caller says how long the process served).
 *
 * <p>Delays start at {@code min} and double per consecutive failure up to {@code max}. A process
 * that served for {@code stableAfter} before failing resets the count. After {@code maxConsecutive}
 * failures in a row the engine gives up. Not thread-safe: engines call it under their lock.
 */
public final class RestartBackoff {
  private final Duration min;
  private final Duration max;
  private final int maxConsecutive;
  private final Duration stableAfter;
  private int consecutive;

  /** The decision after one failure. */
  public record Decision(boolean giveUp, int attempt, Duration delay) {}

  public RestartBackoff(Duration min, Duration max, int maxConsecutive, Duration stableAfter) {
    this.min = min;
    this.max = max;
    this.maxConsecutive = maxConsecutive;
    this.stableAfter = stableAfter;
  }

  /**
   * Records a failure of a process that served for {@code served} (zero if it never became ready)
   * and says what to do.
   */
  public Decision onFailure(Duration served) {
    if (served.compareTo(stableAfter) >= 0) {
      consecutive = 0;
    }
    consecutive++;
    if (consecutive > maxConsecutive) {
      return new Decision(true, consecutive, Duration.ZERO);
    }
    long delay = Math.min(max.toMillis(), min.toMillis() << Math.min(20, consecutive - 1));
    return new Decision(false, consecutive, Duration.ofMillis(delay));
  }

  /** Failures in a row so far. */
  public int consecutiveFailures() {
    return consecutive;
  }

  public int maxConsecutive() {
    return maxConsecutive;
  }
}
