package io.edgeslm.agent.internal.sensor.sparkplug;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The host-side state of the Sparkplug B edge nodes the agent listens to, as Eclipse Sparkplug 3.0
 * describes a host application's duties (sections 5.1-5.11, "Operational Behavior"): births define
 * metrics with their aliases, data messages update them by alias or name, {@code seq} must count up
 * by one modulo 256 per edge node, death certificates and sequence gaps make values stale, and an
 * edge node the agent cannot follow (no birth seen, unknown alias, lost messages) is asked to
 * rebirth, at most once per {@code rebirthInterval} per edge node.
 *
 * <p>Pure: every input, including the time, is a parameter; the caller applies the returned effects
 * to the sensor store and the broker. Not thread-safe (the agent calls it from its one inbound
 * thread).
 */
public final class SparkplugTracker {

  /** Most edge nodes followed; beyond it the least recently born is forgotten. */
  static final int MAX_NODES = 4096;

  private static final String BD_SEQ = "bdSeq";

  /** A metric as its birth certificate defined it. */
  record Definition(
      String sensorId, String alias, int datatype, String unit, Double low, Double high) {}

  /**
   * What the agent must do after one message.
   *
   * @param defined metrics (re)defined by a birth, to register before the updates
   * @param updates new values
   * @param stale sensor ids whose values are no longer current, with the reason
   * @param rebirth whether to ask this message's edge node to rebirth now
   * @param problems what was wrong with the message, for a (bounded) log line each
   */
  public record Effects(
      List<Definition> defined,
      List<Update> updates,
      Map<String, String> stale,
      boolean rebirth,
      List<String> problems) {}

  /**
   * One new value.
   *
   * @param sensorId the sensor id
   * @param value the value
   * @param at when it was measured (metric or payload time), or null for the arrival time
   */
  public record Update(String sensorId, double value, Instant at) {}

  private static final class Scope {
    final Map<Long, Definition> byAlias = new HashMap<>();
    final Map<String, Definition> byName = new HashMap<>();
  }

  private static final class Node {
    Long bdSeq;
    long lastSeq = -1;
    boolean online;
    final Scope metrics = new Scope();
    final Map<String, Scope> devices = new HashMap<>();
  }

  private final Duration rebirthInterval;
  private final int maxMetricsPerScope;
  private final Map<String, Node> nodes = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<String, Instant> lastRebirth = new HashMap<>();

  /**
   * @param rebirthInterval least time between two rebirth requests to one edge node
   * @param maxMetricsPerScope most metrics one birth may define (the store bounds the total)
   */
  public SparkplugTracker(Duration rebirthInterval, int maxMetricsPerScope) {
    this.rebirthInterval = Objects.requireNonNull(rebirthInterval, "rebirthInterval");
    if (maxMetricsPerScope < 1) {
      throw new IllegalArgumentException("maxMetricsPerScope must be positive");
    }
    this.maxMetricsPerScope = maxMetricsPerScope;
  }

  /**
   * Applies one message.
   *
   * @param topic where it arrived
   * @param message the decoded payload
   * @param now the arrival time (rebirth rate limit)
   */
  public Effects onMessage(SparkplugTopic topic, SparkplugMessage message, Instant now) {
    Out out = new Out();
    switch (topic.type()) {
      case "NBIRTH" -> nodeBirth(topic, message, out);
      case "DBIRTH" -> deviceBirth(topic, message, now, out);
      case "NDATA", "DDATA" -> data(topic, message, now, out);
      case "DDEATH" -> deviceDeath(topic, message, now, out);
      case "NDEATH" -> nodeDeath(topic, message, out);
      default -> {
        // NCMD, DCMD and STATE carry no plant values.
      }
    }
    return new Effects(out.defined, out.updates, out.stale, out.rebirth, out.problems);
  }

  /** Whether a birth from this edge node has been seen and no death since. */
  public boolean isOnline(String nodeKey) {
    Node n = nodes.get(nodeKey);
    return n != null && n.online;
  }

  private static final class Out {
    final List<Definition> defined = new ArrayList<>();
    final List<Update> updates = new ArrayList<>();
    final Map<String, String> stale = new LinkedHashMap<>();
    final List<String> problems = new ArrayList<>();
    boolean rebirth;
  }

  private void nodeBirth(SparkplugTopic topic, SparkplugMessage message, Out out) {
    Node node = new Node();
    node.online = true;
    node.lastSeq = message.seq() == null ? -1 : message.seq();
    for (SparkplugMessage.Metric m : message.metrics()) {
      if (BD_SEQ.equals(m.name())
          && (m.kind() == SparkplugMessage.Kind.LONG || m.kind() == SparkplugMessage.Kind.INT)) {
        node.bdSeq = m.bits();
      }
    }
    Node previous = nodes.remove(topic.nodeKey());
    if (previous != null) {
      // Devices of the previous session must be born again (section 5.7): until then their values
      // are not current.
      for (Scope d : previous.devices.values()) {
        staleAll(d, "its edge node was reborn and the device has not reported since", out);
      }
    }
    define(topic, null, node.metrics, message, out);
    nodes.put(topic.nodeKey(), node);
    while (nodes.size() > MAX_NODES) {
      String eldest = nodes.keySet().iterator().next();
      nodes.remove(eldest);
      lastRebirth.remove(eldest);
    }
  }

  private void deviceBirth(SparkplugTopic topic, SparkplugMessage message, Instant now, Out out) {
    Node node = followed(topic, now, out);
    if (node == null) {
      return;
    }
    checkSeq(node, topic, message, now, out);
    Scope device = new Scope();
    define(topic, topic.device(), device, message, out);
    node.devices.put(topic.device(), device);
  }

  private void data(SparkplugTopic topic, SparkplugMessage message, Instant now, Out out) {
    Node node = followed(topic, now, out);
    if (node == null) {
      return;
    }
    checkSeq(node, topic, message, now, out);
    Scope scope = topic.device() == null ? node.metrics : node.devices.get(topic.device());
    if (scope == null) {
      out.problems.add(
          "DDATA from device " + topic.device() + " of " + topic.nodeKey() + " before its DBIRTH");
      requestRebirth(topic, now, out);
      return;
    }
    for (SparkplugMessage.Metric m : message.metrics()) {
      Definition d = m.alias() != null ? scope.byAlias.get(m.alias()) : null;
      if (d == null && m.name() != null) {
        d = scope.byName.get(m.name());
      }
      if (d == null) {
        if (m.alias() == null && m.name() != null && !isNumericDefinable(m)) {
          continue; // a non-numeric metric we chose not to track
        }
        out.problems.add(
            "unknown metric "
                + (m.alias() != null ? "alias " + m.alias() : "'" + m.name() + "'")
                + " in "
                + topic.type()
                + " from "
                + where(topic));
        requestRebirth(topic, now, out);
        continue;
      }
      update(d, m, message, out);
    }
  }

  private static boolean isNumericDefinable(SparkplugMessage.Metric m) {
    return m.datatype() == 0 || SparkplugDecoder.isNumeric(m.datatype());
  }

  private void deviceDeath(SparkplugTopic topic, SparkplugMessage message, Instant now, Out out) {
    Node node = nodes.get(topic.nodeKey());
    if (node == null) {
      return;
    }
    checkSeq(node, topic, message, now, out);
    Scope device = node.devices.remove(topic.device());
    if (device != null) {
      staleAll(device, "device " + topic.device() + " went offline (DDEATH)", out);
    }
  }

  private void nodeDeath(SparkplugTopic topic, SparkplugMessage message, Out out) {
    Node node = nodes.get(topic.nodeKey());
    if (node == null) {
      return;
    }
    Long bdSeq = null;
    for (SparkplugMessage.Metric m : message.metrics()) {
      if (BD_SEQ.equals(m.name())) {
        bdSeq = m.bits();
      }
    }
    if (bdSeq != null && node.bdSeq != null && !bdSeq.equals(node.bdSeq)) {
      // The will of an older session, delivered late: the current session is alive (section 5.3).
      out.problems.add(
          "ignored an NDEATH of "
              + topic.nodeKey()
              + " with bdSeq "
              + bdSeq
              + " (the current session's bdSeq is "
              + node.bdSeq
              + ")");
      return;
    }
    node.online = false;
    String reason = "edge node " + topic.edgeNode() + " went offline (NDEATH)";
    staleAll(node.metrics, reason, out);
    for (Scope d : node.devices.values()) {
      staleAll(d, reason, out);
    }
  }

  /** The node of a data or device message, or null (and a rebirth request) when not followed. */
  private Node followed(SparkplugTopic topic, Instant now, Out out) {
    Node node = nodes.get(topic.nodeKey());
    if (node == null || !node.online) {
      out.problems.add(
          topic.type()
              + " from "
              + topic.nodeKey()
              + (node == null ? " before its NBIRTH" : " after its NDEATH"));
      requestRebirth(topic, now, out);
      return null;
    }
    return node;
  }

  private void checkSeq(
      Node node, SparkplugTopic topic, SparkplugMessage message, Instant now, Out out) {
    if (message.seq() == null) {
      return;
    }
    long seq = message.seq();
    if (node.lastSeq >= 0) {
      long expected = (node.lastSeq + 1) % 256;
      if (seq != expected) {
        out.problems.add(
            "seq gap from " + topic.nodeKey() + ": expected " + expected + ", got " + seq);
        String reason = "messages from edge node " + topic.edgeNode() + " were lost (seq gap)";
        staleAll(node.metrics, reason, out);
        for (Scope d : node.devices.values()) {
          staleAll(d, reason, out);
        }
        requestRebirth(topic, now, out);
      }
    }
    node.lastSeq = seq;
  }

  private void define(
      SparkplugTopic topic, String device, Scope scope, SparkplugMessage message, Out out) {
    int defined = 0;
    for (SparkplugMessage.Metric m : message.metrics()) {
      if (m.name() == null || m.name().isBlank()) {
        out.problems.add("a birth metric without a name from " + where(topic));
        continue;
      }
      if (device == null && (BD_SEQ.equals(m.name()) || m.name().startsWith("Node Control/"))) {
        continue; // session bookkeeping, not plant data
      }
      int type = m.datatype();
      if (!SparkplugDecoder.isNumeric(type)) {
        continue; // strings, data sets, templates, arrays: not sensor values
      }
      if (defined >= maxMetricsPerScope) {
        out.problems.add(
            "more than " + maxMetricsPerScope + " metrics in one birth from " + where(topic));
        break;
      }
      String owner = device == null ? topic.edgeNode() : device;
      String id =
          topic.group()
              + "/"
              + topic.edgeNode()
              + (device == null ? "" : "/" + device)
              + "/"
              + m.name();
      String alias = owner + " " + m.name();
      if (id.length() > 128 || alias.length() > 128) {
        out.problems.add("metric name too long for a sensor id (128 characters): " + id);
        continue;
      }
      Double low = m.low();
      Double high = m.high();
      if (low == null || high == null || !(low < high) || low.isInfinite() || high.isInfinite()) {
        low = null;
        high = null;
      }
      String unit = m.unit() == null || m.unit().length() > 32 ? "" : m.unit();
      Definition d = new Definition(id, alias, type, unit, low, high);
      defined++;
      scope.byName.put(m.name(), d);
      if (m.alias() != null) {
        scope.byAlias.put(m.alias(), d);
      }
      out.defined.add(d);
      update(d, m, message, out);
    }
  }

  private static void update(
      Definition d, SparkplugMessage.Metric m, SparkplugMessage message, Out out) {
    if (m.isNull() || m.kind() == SparkplugMessage.Kind.NONE) {
      return;
    }
    double v = SparkplugDecoder.numericValue(d.datatype(), m);
    if (!Double.isFinite(v)) {
      out.problems.add(
          "a "
              + m.kind()
              + " value for "
              + d.sensorId()
              + ", born as "
              + SparkplugDecoder.typeName(d.datatype()));
      return;
    }
    Long ms = m.timestampMs() != null ? m.timestampMs() : message.timestampMs();
    out.updates.add(new Update(d.sensorId(), v, ms == null ? null : Instant.ofEpochMilli(ms)));
    out.stale.remove(d.sensorId());
  }

  private static void staleAll(Scope scope, String reason, Out out) {
    for (Definition d : scope.byName.values()) {
      out.stale.put(d.sensorId(), reason);
    }
  }

  private void requestRebirth(SparkplugTopic topic, Instant now, Out out) {
    if (out.rebirth) {
      return;
    }
    Instant last = lastRebirth.get(topic.nodeKey());
    if (last != null && Duration.between(last, now).compareTo(rebirthInterval) < 0) {
      return;
    }
    if (lastRebirth.size() >= MAX_NODES && last == null) {
      lastRebirth.clear(); // bounded: forgetting only allows one early request per node
    }
    lastRebirth.put(topic.nodeKey(), now);
    out.rebirth = true;
  }

  private static String where(SparkplugTopic topic) {
    return topic.nodeKey() + (topic.device() == null ? "" : "/" + topic.device());
  }
}
