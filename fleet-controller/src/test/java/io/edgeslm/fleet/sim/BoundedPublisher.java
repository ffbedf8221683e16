package io.edgeslm.fleet.sim;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * Publishes on one client with a bounded number of publishes in flight, so a simulated burst is the
 * load it claims to be: a publish waits for a free slot (counted as delayed) until an earlier one
 * completed (acknowledged for QoS 1, written to the socket for QoS 0). Paho may still refuse a
 * publish with 32202, "too many publishes in progress" (it does even with none outstanding,
 * eclipse-paho/paho.mqtt.java#993); such a publish is counted as refused and retried after a
 * millisecond, for at most {@code retryFor}. Failures reported by the client are counted.
 */
public final class BoundedPublisher {

  /** Paho's reason code for "too many publishes in progress". */
  static final int TOO_MANY_IN_PROGRESS = 32202;

  private final MqttAsyncClient client;
  private final Semaphore slots;
  private final int maxInFlight;
  private final long retryForMillis;
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong delayed = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong peakInFlight = new AtomicLong();
  private final MqttActionListener release =
      new MqttActionListener() {
        @Override
        public void onSuccess(IMqttToken token) {
          slots.release();
        }

        @Override
        public void onFailure(IMqttToken token, Throwable e) {
          failed.incrementAndGet();
          slots.release();
        }
      };

  public BoundedPublisher(MqttAsyncClient client, int maxInFlight, long retryForMillis) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1: got " + maxInFlight);
    }
    this.client = client;
    this.maxInFlight = maxInFlight;
    this.slots = new Semaphore(maxInFlight);
    this.retryForMillis = retryForMillis;
  }

  /**
   * Publishes once a slot is free; returns when the client accepted the message (not when it is
   * acknowledged). Throws what the client throws, or the 32202 refusal once {@code retryFor} ran
   * out.
   */
  public void publish(String topic, byte[] payload, int qos, boolean retained)
      throws MqttException, InterruptedException {
    MqttMessage m = new MqttMessage(payload);
    m.setQos(qos);
    m.setRetained(retained);
    if (!slots.tryAcquire()) {
      delayed.incrementAndGet();
      slots.acquire();
    }
    peakInFlight.accumulateAndGet(maxInFlight - slots.availablePermits(), Math::max);
    long deadline = System.currentTimeMillis() + retryForMillis;
    while (true) {
      try {
        client.publish(topic, m, null, release);
        published.incrementAndGet();
        return;
      } catch (MqttException e) {
        if (e.getReasonCode() != TOO_MANY_IN_PROGRESS || System.currentTimeMillis() > deadline) {
          slots.release();
          throw e;
        }
        refused.incrementAndGet();
        Thread.sleep(1);
      }
    }
  }

  /** Waits until every publish completed; false if some were still in flight at the timeout. */
  public boolean awaitIdle(long timeoutMillis) throws InterruptedException {
    if (slots.tryAcquire(maxInFlight, timeoutMillis, TimeUnit.MILLISECONDS)) {
      slots.release(maxInFlight);
      return true;
    }
    return false;
  }

  /** Publishes the client accepted. */
  public long published() {
    return published.get();
  }

  /** Publishes that waited for a slot. */
  public long delayed() {
    return delayed.get();
  }

  /** Times the client refused a publish with 32202 (each retried). */
  public long refused() {
    return refused.get();
  }

  /** The most publishes that were in flight at once. */
  public long peakInFlight() {
    return peakInFlight.get();
  }

  /** Publishes the client reported as failed after accepting them. */
  public long failed() {
    return failed.get();
  }
}
