package io.edgeslm.agent.internal.sensor;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.SensorReading;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Turns messages on sensor topics into samples: a bare JSON number or {@code {"value": n, "ts": …}}
 * (see {@link SensorReading}). A reading whose value leaves the sensor's normal range (after being
 * in it, or as the first reading) counts as a new anomaly and calls the anomaly listener; the
 * listener debounces.
 */
public final class SensorIngest {

  private static final Logger LOG = Logger.getLogger(SensorIngest.class);

  /** Largest sensor payload read; plain values are a few dozen bytes. */
  public static final int MAX_PAYLOAD_BYTES = 4096;

  /** Readings stamped further ahead than this use the arrival time instead (clock skew). */
  private static final Duration MAX_FUTURE = Duration.ofMinutes(1);

  private final SensorStore store;
  private final Clock clock;
  private final Runnable onNewAnomaly;
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final java.util.Map<String, Boolean> abnormal =
      new java.util.concurrent.ConcurrentHashMap<>();

  public SensorIngest(SensorStore store, Clock clock, Runnable onNewAnomaly) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.onNewAnomaly = Objects.requireNonNull(onNewAnomaly, "onNewAnomaly");
  }

  /** Handles one message on a sensor topic (inbound thread). */
  public void onMessage(InboundMessage message) {
    SensorWindow window = store.byTopic(message.topic()).orElse(null);
    if (window == null) {
      return;
    }
    SensorReading reading;
    try {
      reading = Json.read(message.payload(), SensorReading.class, MAX_PAYLOAD_BYTES);
    } catch (InvalidPayloadException e) {
      long n = rejected.incrementAndGet();
      if (Long.bitCount(n) == 1) {
        LOG.warnf(
            "Ignoring an unreadable reading on %s (%s); %d ignored so far. Publish a number or"
                + " {\"value\": n}.",
            message.topic(), e.getMessage(), n);
      }
      return;
    }
    record(window, reading.ts(), reading.value());
  }

  /**
   * Stores one value of {@code window}'s sensor (any ingest path: plain JSON, Sparkplug B, Unified
   * Namespace) and reports a new anomaly when it leaves the normal range.
   *
   * @param measuredAt when the source says it was measured, or null for the arrival time; a time
   *     more than a minute ahead of the clock is replaced by the arrival time (clock skew)
   * @param value a finite value
   */
  public void record(SensorWindow window, Instant measuredAt, double value) {
    Instant now = clock.instant();
    Instant at = measuredAt == null || measuredAt.isAfter(now.plus(MAX_FUTURE)) ? now : measuredAt;
    window.add(new SensorWindow.Sample(at, value));
    accepted.incrementAndGet();
    SensorSpec spec = window.spec();
    boolean isAbnormal = !spec.isNormal(value);
    Boolean was = abnormal.put(spec.id(), isAbnormal);
    if (isAbnormal && !Boolean.TRUE.equals(was)) {
      LOG.infof(
          "%s left its normal range: %s %s (normal %s-%s)",
          spec.alias(), value, spec.unit(), spec.normalMin(), spec.normalMax());
      onNewAnomaly.run();
    }
  }

  public long accepted() {
    return accepted.get();
  }

  public long rejected() {
    return rejected.get();
  }
}
