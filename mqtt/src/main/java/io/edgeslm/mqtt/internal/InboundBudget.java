package io.edgeslm.mqtt.internal;

/**
 * The byte bound on received messages waiting for the worker thread. Counts bytes, not messages,
 * because one connection carries both small questions and chunks of many MiB. A message is admitted
 * when it fits, or when nothing waits at all: a single message larger than the bound must still be
 * delivered, or it could never be.
 *
 * <p>Thread-safe; no I/O.
 */
final class InboundBudget {

  private final long limit;
  private long queued;
  private long dropped;

  InboundBudget(long limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive: got " + limit);
    }
    this.limit = limit;
  }

  /**
   * Reserves {@code bytes} for one message; false (and counted as dropped) when it does not fit.
   */
  synchronized boolean tryAdmit(long bytes) {
    if (queued == 0 || queued + bytes <= limit) {
      queued += bytes;
      return true;
    }
    dropped++;
    return false;
  }

  /** Gives back what {@link #tryAdmit} reserved, once the message was handled. */
  synchronized void release(long bytes) {
    queued = Math.max(0, queued - bytes);
  }

  synchronized long queuedBytes() {
    return queued;
  }

  synchronized long dropped() {
    return dropped;
  }
}
