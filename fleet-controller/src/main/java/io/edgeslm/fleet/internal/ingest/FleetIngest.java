package io.edgeslm.fleet.internal.ingest;

import io.edgeslm.fleet.internal.mqtt.FleetMqtt;
import io.edgeslm.fleet.internal.store.BirthEvent;
import io.edgeslm.fleet.internal.store.HealthSample;
import io.edgeslm.fleet.internal.store.NodeStore;
import io.edgeslm.fleet.internal.store.StatusEvent;
import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.protocol.Channel;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.InvalidTopicException;
import io.edgeslm.protocol.JournalAck;
import io.edgeslm.protocol.JournalBatch;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdateProgress;
import io.edgeslm.protocol.UpdateResult;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Turns node messages into registry writes. Birth and status are retained, and the broker does not
 * send retained messages to shared subscriptions (MQTT 5 section 4.8.2), so every replica
 * subscribes to them directly; their writes are idempotent and ordered by the message's own time.
 * Health, journal, results and progress are spread over replicas with shared subscriptions.
 */
public final class FleetIngest {

  private static final Logger LOG = Logger.getLogger(FleetIngest.class);

  private final MqttConnection mqtt;
  private final NodeStore nodes;
  private final HealthWriter health;
  private final FinalResults finalResults;
  private final java.util.function.BiConsumer<String, String> wentOffline;
  private final Clock clock;
  private final AtomicLong invalid = new AtomicLong();
  private final AtomicLong received = new AtomicLong();

  /** Told of every final update result, to clear the node's retained assignment if it is ours. */
  @FunctionalInterface
  public interface FinalResults {
    void finished(String site, String nodeId, String assignmentId) throws Exception;
  }

  public FleetIngest(
      MqttConnection mqtt,
      NodeStore nodes,
      HealthWriter health,
      FinalResults finalResults,
      java.util.function.BiConsumer<String, String> wentOffline,
      Clock clock) {
    this.wentOffline = wentOffline;
    this.mqtt = mqtt;
    this.nodes = nodes;
    this.health = health;
    this.finalResults = finalResults;
    this.clock = clock;
  }

  /**
   * Registers the subscriptions; {@code shareGroup} names the replicas' shared group. The layer
   * hands every message to one worker thread in arrival order, so a node's messages are written in
   * the order the broker delivered them.
   */
  public void subscribe(String shareGroup) {
    mqtt.subscribe(Topics.filter(Channel.BIRTH), 1, FleetMqtt.guarded(this::onBirth));
    mqtt.subscribe(Topics.filter(Channel.STATUS), 1, FleetMqtt.guarded(this::onStatus));
    mqtt.subscribe(
        Topics.sharedFilter(shareGroup, Channel.HEALTH), 0, FleetMqtt.guarded(this::onHealth));
    mqtt.subscribe(
        Topics.sharedFilter(shareGroup, Channel.JOURNAL), 1, FleetMqtt.guarded(this::onJournal));
    mqtt.subscribe(
        Topics.sharedFilter(shareGroup, Channel.UPDATE_RESULT),
        1,
        FleetMqtt.guarded(this::onResult));
    mqtt.subscribe(
        Topics.sharedFilter(shareGroup, Channel.UPDATE_PROGRESS),
        0,
        FleetMqtt.guarded(this::onProgress));
  }

  public long invalidMessages() {
    return invalid.get();
  }

  public long receivedMessages() {
    return received.get();
  }

  void onBirth(Message m) throws Exception {
    String topic = m.topic();
    Topics.ParsedTopic t = parse(topic);
    if (t == null || m.payloadSize() == 0) {
      return;
    }
    NodeBirth birth = read(topic, m, NodeBirth.class);
    if (birth != null) {
      health.put(new BirthEvent(t.site(), t.node(), birth, clock.instant()));
    }
  }

  void onStatus(Message m) throws Exception {
    String topic = m.topic();
    Topics.ParsedTopic t = parse(topic);
    if (t == null || m.payloadSize() == 0) {
      return;
    }
    NodeStatus status = read(topic, m, NodeStatus.class);
    if (status != null && status.state() == io.edgeslm.protocol.NodeState.OFFLINE) {
      // Questions waiting for this node end now rather than at their deadline.
      wentOffline.accept(t.node(), status.reason());
    }
    if (status != null) {
      health.put(new StatusEvent(t.site(), t.node(), status, clock.instant()));
    }
  }

  void onHealth(Message m) {
    String topic = m.topic();
    Topics.ParsedTopic t = parse(topic);
    if (t == null) {
      return;
    }
    NodeHealth h = readHealth(topic, m);
    if (h != null) {
      health.offer(new HealthSample(t.site(), t.node(), h, clock.instant()));
    }
  }

  void onJournal(Message m) throws Exception {
    String topic = m.topic();
    Topics.ParsedTopic t = parse(topic);
    if (t == null) {
      return;
    }
    JournalBatch batch = read(topic, m, JournalBatch.class);
    if (batch == null) {
      return;
    }
    if (!batch.nodeId().equals(t.node())) {
      invalid.incrementAndGet();
      LOG.warnf("journal on %s names node '%s'; ignored", topic, batch.nodeId());
      return;
    }
    long upTo = nodes.mergeJournal(t.site(), batch, clock.instant());
    mqtt.publish(
        FleetMqtt.json(
            t.nodeTopics().journalAck(),
            Json.write(new JournalAck(Protocol.SCHEMA_VERSION, t.node(), upTo)),
            1,
            true));
  }

  void onResult(Message m) throws Exception {
    String topic = m.topic();
    Topics.ParsedTopic t = parse(topic);
    if (t == null) {
      return;
    }
    UpdateResult r = read(topic, m, UpdateResult.class);
    if (r == null) {
      return;
    }
    nodes.recordResult(t.site(), t.node(), r, clock.instant());
    if (r.assignmentId() != null && r.outcome() != UpdateOutcome.VERIFIED) {
      // The contract: the controller clears the retained assignment once the node reported a
      // final result, so a reconnecting node does not find it again; but only if the retained
      // assignment is still this one, not a newer rollout's.
      finalResults.finished(t.site(), t.node(), r.assignmentId());
    }
  }

  void onProgress(Message m) throws Exception {
    String topic = m.topic();
    Topics.ParsedTopic t = parse(topic);
    if (t == null) {
      return;
    }
    UpdateProgress p = read(topic, m, UpdateProgress.class);
    if (p != null) {
      nodes.recordProgress(t.site(), t.node(), p, clock.instant());
    }
  }

  private Topics.ParsedTopic parse(String topic) {
    received.incrementAndGet();
    try {
      return Topics.parse(topic);
    } catch (InvalidTopicException e) {
      invalid.incrementAndGet();
      LOG.debugf("ignored: %s", e.getMessage());
      return null;
    }
  }

  /**
   * Health is most of what a fleet sends, so it is read in one pass when it can be: an ASCII
   * payload within the size limit (so valid UTF-8) bound straight to the record, whose constructor
   * checks every field and the schema version as {@link Json#read} does. Anything else, and any
   * payload that fails there, takes {@link Json#read}'s full path (tree first, then the record),
   * which refuses exactly what it always refused and says why.
   */
  NodeHealth readHealth(String topic, Message m) {
    byte[] payload = m.payload();
    if (payload.length > 0 && payload.length <= Json.DEFAULT_MAX_PAYLOAD_BYTES && ascii(payload)) {
      try {
        NodeHealth h = Json.mapper().readValue(payload, NodeHealth.class);
        if (h != null) {
          return h;
        }
      } catch (java.io.IOException | RuntimeException e) {
        // The full path below gives the reason.
      }
    }
    return read(topic, m, NodeHealth.class);
  }

  private static boolean ascii(byte[] b) {
    for (byte x : b) {
      if (x < 0) {
        return false;
      }
    }
    return true;
  }

  private <T> T read(String topic, Message m, Class<T> type) {
    try {
      return Json.read(m.payload(), type);
    } catch (InvalidPayloadException e) {
      invalid.incrementAndGet();
      LOG.debugf("ignored message on %s: %s", topic, e.getMessage());
      return null;
    }
  }

  /** For tests: the instant this ingest thinks it is. */
  Instant now() {
    return clock.instant();
  }
}
