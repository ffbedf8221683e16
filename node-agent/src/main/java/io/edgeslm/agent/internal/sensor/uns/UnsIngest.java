package io.edgeslm.agent.internal.sensor.uns;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.agent.internal.sensor.SensorIngest;
import io.edgeslm.agent.internal.sensor.SensorSpec;
import io.edgeslm.agent.internal.sensor.SensorStore;
import io.edgeslm.agent.internal.sensor.SensorWindow;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Reads sensor values from Unified Namespace topics by pattern ({@link UnsRoute}): the first
 * message on a matching topic defines its sensor, later ones add samples. A topic matching several
 * patterns belongs to the most specific one (most literal levels, then the first by name), so that
 * a broad pattern and narrower ones with units and ranges can sit side by side. Unreadable payloads
 * are refused, counted and logged (1st, 2nd, 4th, ... time).
 */
public final class UnsIngest {

  private static final Logger LOG = Logger.getLogger(UnsIngest.class);

  private final List<UnsRoute> routes;
  private final int maxPayloadBytes;
  private final SensorStore store;
  private final SensorIngest sink;
  private final AtomicLong values = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong storeFull = new AtomicLong();

  public UnsIngest(
      List<UnsRoute> routes, int maxPayloadBytes, SensorStore store, SensorIngest sink) {
    this.routes =
        routes.stream()
            .sorted(
                Comparator.comparingInt(UnsRoute::specificity)
                    .reversed()
                    .thenComparing(UnsRoute::name))
            .toList();
    this.maxPayloadBytes = maxPayloadBytes;
    this.store = Objects.requireNonNull(store, "store");
    this.sink = Objects.requireNonNull(sink, "sink");
  }

  /**
   * The subscription filters: one per pattern, less those another filter already covers. Brokers
   * such as Mosquitto deliver one copy of a message per matching subscription, so a pattern inside
   * another must not be subscribed twice.
   */
  public List<String> filters() {
    List<String> distinct = routes.stream().map(UnsRoute::filter).distinct().toList();
    return distinct.stream()
        .filter(f -> distinct.stream().noneMatch(o -> !o.equals(f) && UnsRoute.covers(o, f)))
        .toList();
  }

  /**
   * The handler for one subscription filter. The transport calls the handler of every subscribed
   * filter that matches a topic, so each acts only when it is the first matching filter: one
   * delivered message is stored once.
   */
  public io.edgeslm.agent.internal.mqtt.MqttTransport.MessageHandler handlerFor(String filter) {
    List<String> subscribed = filters();
    return message -> {
      String first =
          subscribed.stream()
              .filter(f -> UnsRoute.filterMatches(f, message.topic()))
              .findFirst()
              .orElse(null);
      if (filter.equals(first)) {
        resolve(message.topic()).ifPresent(r -> onMessage(message, r));
      }
    };
  }

  /** The best route for a topic and its named levels. */
  record Resolved(UnsRoute route, Map<String, String> levels) {}

  Optional<Resolved> resolve(String topic) {
    for (UnsRoute r : routes) {
      Optional<Map<String, String>> m = r.match(topic);
      if (m.isPresent()) {
        return Optional.of(new Resolved(r, m.get()));
      }
    }
    return Optional.empty();
  }

  private void onMessage(InboundMessage message, Resolved r) {
    UnsReading reading;
    try {
      JsonNode tree = Json.readTree(message.payload(), "UNS value", maxPayloadBytes);
      reading = UnsReading.of(tree, r.route().valuePointer());
    } catch (InvalidPayloadException | IllegalArgumentException e) {
      refuse(message.topic(), r.route(), e.getMessage());
      return;
    }
    UnsRoute route = r.route();
    String id = UnsRoute.render(route.idTemplate(), r.levels());
    String alias =
        route.aliasTemplate() == null ? id : UnsRoute.render(route.aliasTemplate(), r.levels());
    String unit =
        route.unitTemplate() != null
            ? UnsRoute.render(route.unitTemplate(), r.levels())
            : reading.unit() == null ? "" : reading.unit();
    if (id.isBlank()
        || id.length() > 128
        || alias.isBlank()
        || alias.length() > 128
        || unit.length() > 32) {
      refuse(
          message.topic(),
          route,
          "sensor id, alias or unit out of bounds (id and alias 1-128, unit 0-32 characters): id '"
              + id
              + "'");
      return;
    }
    SensorSpec spec =
        Double.isNaN(route.normalMin())
            ? SensorSpec.unranged(id, message.topic(), unit, alias, route.window())
            : new SensorSpec(
                id,
                message.topic(),
                unit,
                alias,
                route.normalMin(),
                route.normalMax(),
                route.window());
    Optional<SensorWindow> w = store.define(spec);
    if (w.isEmpty()) {
      long n = storeFull.incrementAndGet();
      if (Long.bitCount(n) == 1) {
        LOG.warnf(
            "Not tracking %s: the agent already holds %d sensors (edgeslm.agent.ingest.max-sensors)"
                + " or it is a configured sensor; %d values left out so far.",
            id, store.size(), n);
      }
      return;
    }
    sink.record(w.get(), reading.at(), reading.value());
    values.incrementAndGet();
  }

  private void refuse(String topic, UnsRoute route, String why) {
    long n = refused.incrementAndGet();
    if (Long.bitCount(n) == 1) {
      LOG.warnf(
          "Refused a value on %s (pattern %s): %s; %d refused so far"
              + " (edgeslm_agent_uns_refused_total). Publish a number, {\"value\": n, \"unit\": …,"
              + " \"timestamp\": …}, or set edgeslm.agent.uns.patterns.\"%s\".value-pointer.",
          topic, route.name(), why, n, route.name());
    }
  }

  /** Values stored. */
  public long values() {
    return values.get();
  }

  /** Payloads refused. */
  public long refused() {
    return refused.get();
  }
}
