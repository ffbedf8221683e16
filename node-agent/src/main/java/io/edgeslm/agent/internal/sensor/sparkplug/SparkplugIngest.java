package io.edgeslm.agent.internal.sensor.sparkplug;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.agent.internal.sensor.SensorIngest;
import io.edgeslm.agent.internal.sensor.SensorSpec;
import io.edgeslm.agent.internal.sensor.SensorStore;
import io.edgeslm.agent.internal.sensor.SensorWindow;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * The I/O shell around {@link SparkplugTracker}: bounds and decodes payloads on the configured
 * groups' topics ({@code spBv1.0/{group}/#}), applies the tracker's effects to the sensor store and
 * sends rebirth requests. A payload that is too large or not Sparkplug B is refused, counted and
 * logged (the 1st, 2nd, 4th, 8th ... time, so a broken publisher cannot flood the log); nothing
 * thrown here reaches the transport.
 */
public final class SparkplugIngest {

  private static final Logger LOG = Logger.getLogger(SparkplugIngest.class);

  /**
   * Settings.
   *
   * @param groups the Group IDs followed
   * @param maxPayloadBytes larger payloads are refused unread
   * @param rebirthInterval least time between rebirth requests to one edge node
   * @param rebirthRequests whether to send them at all (a read-only broker account cannot)
   * @param window samples kept per metric
   */
  public record Settings(
      List<String> groups,
      int maxPayloadBytes,
      Duration rebirthInterval,
      boolean rebirthRequests,
      int window) {
    public Settings {
      groups = List.copyOf(groups);
      Objects.requireNonNull(rebirthInterval, "rebirthInterval");
    }

    /** The subscription filters, one per group. */
    public List<String> filters() {
      return groups.stream().map(g -> SparkplugTopic.NAMESPACE + "/" + g + "/#").toList();
    }
  }

  private final Settings settings;
  private final SensorStore store;
  private final SensorIngest sink;
  private final Clock clock;
  private final BiConsumer<String, byte[]> publisher;
  private final SparkplugTracker tracker;
  private final AtomicLong metrics = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong rebirths = new AtomicLong();
  private final AtomicLong problems = new AtomicLong();
  private final AtomicLong storeFull = new AtomicLong();

  /**
   * @param publisher sends a QoS 0 message (topic, payload): the rebirth requests
   */
  public SparkplugIngest(
      Settings settings,
      SensorStore store,
      SensorIngest sink,
      Clock clock,
      BiConsumer<String, byte[]> publisher) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.store = Objects.requireNonNull(store, "store");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.tracker =
        new SparkplugTracker(settings.rebirthInterval(), SensorStore.DEFAULT_MAX_SENSORS);
  }

  /** Handles one message on a followed group's topics (the transport's inbound thread). */
  public void onMessage(InboundMessage message) {
    Optional<SparkplugTopic> parsed = SparkplugTopic.parse(message.topic());
    if (parsed.isEmpty() || parsed.get().type().equals("STATE")) {
      return;
    }
    SparkplugTopic topic = parsed.get();
    if (topic.type().equals("NCMD") || topic.type().equals("DCMD")) {
      return; // commands, including our own rebirth requests
    }
    if (message.payload().length > settings.maxPayloadBytes()) {
      refuse(
          message.topic(),
          message.payload().length
              + " bytes, more than edgeslm.agent.sparkplug.max-payload-bytes="
              + settings.maxPayloadBytes());
      return;
    }
    SparkplugMessage decoded;
    try {
      decoded = SparkplugDecoder.decode(message.payload());
    } catch (SparkplugFormatException e) {
      refuse(message.topic(), e.getMessage());
      return;
    }
    SparkplugTracker.Effects effects;
    synchronized (tracker) {
      effects = tracker.onMessage(topic, decoded, clock.instant());
    }
    apply(topic, effects);
  }

  private void apply(SparkplugTopic topic, SparkplugTracker.Effects effects) {
    for (SparkplugTracker.Definition d : effects.defined()) {
      SensorSpec spec =
          d.low() == null
              ? SensorSpec.unranged(
                  d.sensorId(),
                  SparkplugTopic.NAMESPACE + "/" + topic.group(),
                  d.unit(),
                  d.alias(),
                  settings.window())
              : new SensorSpec(
                  d.sensorId(),
                  SparkplugTopic.NAMESPACE + "/" + topic.group(),
                  d.unit(),
                  d.alias(),
                  d.low(),
                  d.high(),
                  settings.window());
      if (store.define(spec).isEmpty()) {
        long n = storeFull.incrementAndGet();
        if (Long.bitCount(n) == 1) {
          LOG.warnf(
              "Not tracking %s: the agent already holds %d sensors (edgeslm.agent.ingest.max-sensors);"
                  + " %d metrics left out so far. Raise the bound or follow fewer groups.",
              d.sensorId(), store.size(), n);
        }
      }
    }
    for (Map.Entry<String, String> s : effects.stale().entrySet()) {
      store.byId(s.getKey()).ifPresent(w -> w.markStale(s.getValue()));
    }
    for (SparkplugTracker.Update u : effects.updates()) {
      Optional<SensorWindow> w = store.byId(u.sensorId());
      if (w.isPresent()) {
        sink.record(w.get(), u.at(), u.value());
        metrics.incrementAndGet();
      }
    }
    for (String p : effects.problems()) {
      long n = problems.incrementAndGet();
      if (Long.bitCount(n) == 1) {
        LOG.warnf("Sparkplug B: %s (%d such problems so far)", p, n);
      }
    }
    if (effects.rebirth() && settings.rebirthRequests()) {
      rebirths.incrementAndGet();
      LOG.infof("Asking Sparkplug edge node %s to rebirth", topic.nodeKey());
      publisher.accept(topic.nodeCommandTopic(), SparkplugDecoder.rebirthRequest(clock.instant()));
    }
  }

  private void refuse(String topic, String why) {
    long n = refused.incrementAndGet();
    if (Long.bitCount(n) == 1) {
      LOG.warnf(
          "Refused a Sparkplug B payload on %s: %s; %d refused so far"
              + " (edgeslm_agent_sparkplug_refused_total).",
          topic, why, n);
    }
  }

  /** Metric values stored. */
  public long metrics() {
    return metrics.get();
  }

  /** Payloads refused: oversized or not Sparkplug B. */
  public long refused() {
    return refused.get();
  }

  /** Rebirth requests sent. */
  public long rebirths() {
    return rebirths.get();
  }

  /** Protocol problems seen (sequence gaps, unknown aliases, data before birth). */
  public long problems() {
    return problems.get();
  }
}
