package io.edgeslm.inference;

import java.time.Duration;
import java.util.Objects;

/**
 * Scheduler bounds.
 *
 * @param queueCapacity requests that may wait (both priorities together), 1..10,000; one more is
 *     refused with {@link BusyException}
 * @param maxNPredict largest {@code nPredict} admitted, 1..{@link GenerationRequest#MAX_N_PREDICT}
 * @param defaultDeadline deadline of a request submitted without one
 * @param maxDeadline longest deadline admitted; also bounds how long a model swap waits for running
 *     requests
 */
public record SchedulerConfig(
    int queueCapacity, int maxNPredict, Duration defaultDeadline, Duration maxDeadline) {

  public SchedulerConfig {
    if (queueCapacity < 1 || queueCapacity > 10_000) {
      throw new IllegalArgumentException(
          "queueCapacity must be in 1..10000, was " + queueCapacity + ".");
    }
    if (maxNPredict < 1 || maxNPredict > GenerationRequest.MAX_N_PREDICT) {
      throw new IllegalArgumentException(
          "maxNPredict must be in 1.." + GenerationRequest.MAX_N_PREDICT + ", was " + maxNPredict);
    }
    Objects.requireNonNull(defaultDeadline, "defaultDeadline");
    Objects.requireNonNull(maxDeadline, "maxDeadline");
    if (defaultDeadline.isNegative()
        || defaultDeadline.isZero()
        || defaultDeadline.compareTo(maxDeadline) > 0) {
      throw new IllegalArgumentException(
          "defaultDeadline must be positive and at most maxDeadline, was " + defaultDeadline);
    }
  }

  /** 32 queued requests, n_predict up to 1024, 60 s default and 10 min longest deadline. */
  public static SchedulerConfig defaults() {
    return new SchedulerConfig(32, 1024, Duration.ofSeconds(60), Duration.ofMinutes(10));
  }

  public SchedulerConfig withQueueCapacity(int capacity) {
    return new SchedulerConfig(capacity, maxNPredict, defaultDeadline, maxDeadline);
  }
}
