package io.edgeslm.inference;

import java.time.Duration;
import java.util.Objects;

/**
 * The scheduler's queue is full: the request was not queued. {@link #retryAfter()} is the
 * scheduler's estimate of when a slot frees up; callers should answer "busy" with that hint rather
 * than wait.
 */
public final class BusyException extends InferenceException {
  private static final long serialVersionUID = 1L;
  private final Duration retryAfter;

  public BusyException(String message, Duration retryAfter) {
    super(message);
    this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
  }

  /** How long the caller should wait before trying again; at least one second. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
