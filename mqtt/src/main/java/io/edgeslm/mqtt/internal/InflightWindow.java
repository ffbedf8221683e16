package io.edgeslm.mqtt.internal;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The bound on our unacknowledged QoS 1 and 2 publishes for one connection. A new window is made
 * for every connect, sized by {@link #size}, so permits held by publishes of a lost connection
 * cannot leak into the next one.
 */
final class InflightWindow {

  private final int size;
  private final Semaphore permits;

  InflightWindow(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("window size must be positive: got " + size);
    }
    this.size = size;
    this.permits = new Semaphore(size);
  }

  /**
   * The window in force: ours, lowered to the broker's Receive Maximum (MQTT 5 section 3.2.2.3.3: a
   * client must not have more QoS 1 and 2 publishes unacknowledged). Pure.
   *
   * @param ours the configured window, positive
   * @param brokerReceiveMaximum the CONNACK's value, or 0 if the broker sent none (65535 then)
   */
  static int size(int ours, int brokerReceiveMaximum) {
    int broker = brokerReceiveMaximum <= 0 ? 65_535 : brokerReceiveMaximum;
    return Math.max(1, Math.min(ours, broker));
  }

  int size() {
    return size;
  }

  /** Waits for room; false if none came within {@code millis}. */
  boolean acquire(long millis) throws InterruptedException {
    return permits.tryAcquire(millis, TimeUnit.MILLISECONDS);
  }

  void release() {
    permits.release();
  }

  int inUse() {
    return size - permits.availablePermits();
  }
}
