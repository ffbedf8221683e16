package io.edgeslm.fleet.sim;

import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.ChunkHeader;
import io.edgeslm.protocol.ChunkRequest;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdatePhase;
import io.edgeslm.protocol.UpdateProgress;
import io.edgeslm.protocol.UpdateResult;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/**
 * One virtual node agent with its own MQTT 5 connection, speaking the real protocol: retained
 * status with a last will, retained birth, periodic health, and the update path (retained
 * assignment, chunk pulls verified against the assignment's hashes, result, rollback command). Its
 * model's runtime health is configurable, and it can be told to reject installs.
 */
public final class VirtualNode implements AutoCloseable {

  private final NodeTopics topics;
  private final MqttAsyncClient client;
  private final BoundedPublisher publisher;
  private final Map<String, String> labels;
  private final ExecutorService worker = Executors.newSingleThreadExecutor();
  private final Map<ModelRef, Double> speedOf = new HashMap<>();
  private volatile ModelRef active;
  private volatile ModelRef previous;
  private volatile boolean rejectInstalls;
  private volatile Long maxPacketBytes;
  private volatile UpdateAssignment lastAssignment;
  private final AtomicLong assignmentsReceived = new AtomicLong();
  private final java.util.Set<String> seenAssignments =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong bytesReceived = new AtomicLong();
  private UpdateAssignment pending;
  private Map<String, byte[][]> received;
  private int missing;
  private long bytesDone;
  private long bytesTotal;
  private volatile boolean holdDownloads;
  private volatile boolean reportProgress;
  private final List<ChunkRequest> held = new ArrayList<>();

  public VirtualNode(
      String brokerUri, String site, String node, ModelRef model, Map<String, String> labels)
      throws MqttException {
    this.topics = Topics.node(site, node);
    this.active = model;
    this.labels = labels;
    this.client = new MqttAsyncClient(brokerUri, "sim-" + node, new MemoryPersistence());
    client.setCallback(new Callback());
    // Ten publishes in flight at most, as an agent with a small outgoing queue would have.
    this.publisher = new BoundedPublisher(client, 10, 10_000);
  }

  /** This node's publishes: accepted, delayed for a free slot, refused by the client (retried). */
  public BoundedPublisher publisher() {
    return publisher;
  }

  public String nodeId() {
    return topics.node();
  }

  public ModelRef active() {
    return active;
  }

  public long bytesReceived() {
    return bytesReceived.get();
  }

  public VirtualNode speed(ModelRef model, double tokensPerSecond) {
    speedOf.put(model, tokensPerSecond);
    return this;
  }

  /**
   * Sets the largest MQTT packet this node accepts, before {@link #connect}: sent in CONNECT (so
   * the broker drops larger packets for it, MQTT 5 section 3.1.2.11.4) and stated in its birth.
   */
  public VirtualNode maxPacketBytes(long value) {
    maxPacketBytes = value;
    return this;
  }

  /** Non-empty assignment messages received, counting redeliveries. */
  public long assignmentsReceived() {
    return assignmentsReceived.get();
  }

  /** The last assignment received, or null. */
  public UpdateAssignment lastAssignment() {
    return lastAssignment;
  }

  /**
   * Makes the node report download progress, one message per chunk (off by default, so fleet
   * benchmarks carry no extra traffic).
   */
  public VirtualNode reportProgress(boolean value) {
    reportProgress = value;
    return this;
  }

  /**
   * While set, a new assignment sends only its first chunk request and keeps the others until
   * {@link #releaseDownloads}, so the download stays part-way done (and says so in its progress).
   */
  public VirtualNode holdDownloads(boolean value) {
    holdDownloads = value;
    return this;
  }

  /** Stops holding downloads and sends the chunk requests kept back, on the node's own thread. */
  public void releaseDownloads() {
    holdDownloads = false;
    worker.execute(
        () -> {
          try {
            UpdateAssignment a = pending;
            for (ChunkRequest r : held) {
              publish(a.requestTopic(), Json.write(r), 1, false);
            }
            held.clear();
          } catch (Exception e) {
            System.err.println(topics.node() + ": " + e);
          }
        });
  }

  /**
   * Sends the first chunk request kept back and keeps holding the others, so the download moves on
   * by one request's worth of chunks and reports it.
   */
  public void releaseOneRequest() {
    worker.execute(
        () -> {
          try {
            if (!held.isEmpty()) {
              publish(pending.requestTopic(), Json.write(held.remove(0)), 1, false);
            }
          } catch (Exception e) {
            System.err.println(topics.node() + ": " + e);
          }
        });
  }

  public VirtualNode rejectInstalls(boolean value) {
    rejectInstalls = value;
    return this;
  }

  /** Connects with a last will, publishes online and birth, subscribes to its update topics. */
  public void connect() throws MqttException {
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(true);
    o.setWill(topics.status(), willMessage());
    MqttProperties willProps = new MqttProperties();
    willProps.setWillDelayInterval(0L);
    o.setWillMessageProperties(willProps);
    if (maxPacketBytes != null) {
      o.setMaximumPacketSize(maxPacketBytes);
    }
    client.connect(o).waitForCompletion(10_000);
    client.subscribe(topics.updateAssignment(), 1).waitForCompletion(10_000);
    client.subscribe(topics.updateCommand(), 1).waitForCompletion(10_000);
    client.subscribe(topics.updateChunk(), 1).waitForCompletion(10_000);
    publish(topics.status(), Json.write(NodeStatus.online(Instant.now())), 1, true);
    publishBirth();
  }

  private static MqttMessage willMessage() {
    MqttMessage m = new MqttMessage(Json.write(NodeStatus.will()));
    m.setQos(1);
    m.setRetained(true);
    return m;
  }

  private void publishBirth() throws MqttException {
    Instant now = Instant.now();
    NodeBirth b =
        new NodeBirth(
            Protocol.SCHEMA_VERSION,
            "0.1.0",
            "amd64",
            "gw-8g",
            8L << 30,
            labels,
            active,
            maxPacketBytes,
            now,
            now);
    publish(topics.birth(), Json.write(b), 1, true);
  }

  /** Publishes one health message for the serving model. */
  public void publishHealth() throws MqttException {
    ModelRef m = active;
    long req = requests.addAndGet(10);
    NodeHealth h =
        new NodeHealth(
            Protocol.SCHEMA_VERSION,
            Instant.now(),
            30,
            true,
            null,
            m == null ? Source.RULES : Source.MODEL,
            m,
            m == null ? null : speedOf.getOrDefault(m, 20.0),
            m == null ? null : 800L,
            0,
            req,
            0,
            1L << 30,
            8L << 30,
            10L << 30,
            null,
            m == null ? null : 0.95);
    publish(topics.health(), Json.write(h), 0, false);
  }

  /** Drops the connection without DISCONNECT, so the broker publishes the will. */
  public void crash() throws MqttException {
    client.disconnectForcibly(0, 1000, false);
  }

  private void publish(String topic, byte[] payload, int qos, boolean retained)
      throws MqttException {
    try {
      publisher.publish(topic, payload, qos, retained);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MqttException(MqttException.REASON_CODE_CLIENT_EXCEPTION, e);
    }
  }

  private void onAssignment(byte[] payload) throws Exception {
    if (payload.length == 0) {
      return;
    }
    UpdateAssignment a =
        Json.read(payload, UpdateAssignment.class, UpdateAssignment.MAX_PAYLOAD_BYTES);
    assignmentsReceived.incrementAndGet();
    lastAssignment = a;
    // Idempotent by assignment id, as the agent is: a republished assignment is not started again.
    if (!seenAssignments.add(a.assignmentId())) {
      return;
    }
    if (active != null && active.digest().equals(a.model().digest())) {
      return;
    }
    if (rejectInstalls) {
      result(a.assignmentId(), null, UpdateOutcome.REJECTED, "simulated: disk full");
      return;
    }
    pending = a;
    received = new HashMap<>();
    missing = 0;
    bytesDone = 0;
    bytesTotal = 0;
    held.clear();
    int n = 0;
    for (BundleFile f : a.files()) {
      received.put(f.name(), new byte[f.chunks().size()][]);
      missing += f.chunks().size();
      bytesTotal += f.sizeBytes();
      for (int first = 0; first < f.chunks().size(); first += ChunkRequest.MAX_CHUNKS_PER_REQUEST) {
        int count = Math.min(ChunkRequest.MAX_CHUNKS_PER_REQUEST, f.chunks().size() - first);
        ChunkRequest r =
            ChunkRequest.range(
                "q" + (n++), a.assignmentId(), f.name(), first, count, topics.updateChunk());
        if (holdDownloads && n > 1) {
          held.add(r);
        } else {
          publish(a.requestTopic(), Json.write(r), 1, false);
        }
      }
    }
    progress();
    if (missing == 0) {
      activate();
    }
  }

  private void onChunk(MqttMessage m) throws Exception {
    if (pending == null) {
      return;
    }
    Map<String, String> props = new HashMap<>();
    for (UserProperty p : m.getProperties().getUserProperties()) {
      props.put(p.getKey(), p.getValue());
    }
    if (!"chunk".equals(props.get(ChunkHeader.TYPE))) {
      throw new IllegalStateException("chunk error: " + new String(m.getPayload()));
    }
    ChunkHeader h = ChunkHeader.fromUserProperties(props);
    BundleFile f = pending.file(h.file()).orElseThrow();
    String sha =
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(m.getPayload()));
    if (!sha.equals(f.chunks().get(h.index()))) {
      throw new IllegalStateException(
          "chunk " + h.index() + " of " + h.file() + " has a wrong hash");
    }
    byte[][] chunks = received.get(h.file());
    if (chunks[h.index()] == null) {
      chunks[h.index()] = m.getPayload();
      bytesReceived.addAndGet(m.getPayload().length);
      bytesDone += m.getPayload().length;
      if (--missing == 0) {
        activate();
      } else {
        progress();
      }
    }
  }

  /**
   * Reports the download's progress at QoS 0, as the agent does; a simulator sends one per chunk
   * rather than at most one a second.
   */
  private void progress() throws MqttException {
    if (!reportProgress) {
      return;
    }
    UpdateProgress p =
        new UpdateProgress(
            Protocol.SCHEMA_VERSION,
            pending.assignmentId(),
            UpdatePhase.DOWNLOADING,
            Math.min(bytesDone, bytesTotal),
            bytesTotal,
            null,
            null,
            Instant.now());
    publish(topics.updateProgress(), Json.write(p), 0, false);
  }

  private void activate() throws MqttException {
    UpdateAssignment a = pending;
    pending = null;
    previous = active;
    active = a.model();
    result(a.assignmentId(), null, UpdateOutcome.ACTIVATED, null);
    publishBirth();
  }

  private void onCommand(byte[] payload) throws Exception {
    UpdateCommand c = Json.read(payload, UpdateCommand.class);
    if (c.action() == CommandAction.ROLLBACK && previous != null) {
      ModelRef from = active;
      active = previous;
      previous = null;
      result(c.assignmentId(), c.commandId(), UpdateOutcome.ROLLED_BACK, "operator command", from);
      publishBirth();
    }
  }

  private void result(String assignmentId, String commandId, UpdateOutcome outcome, String reason)
      throws MqttException {
    result(assignmentId, commandId, outcome, reason, pendingOrActive());
  }

  private ModelRef pendingOrActive() {
    return active != null ? active : ModelRef.of("none", 1, "sha256:" + "0".repeat(64));
  }

  private void result(
      String assignmentId, String commandId, UpdateOutcome outcome, String reason, ModelRef model)
      throws MqttException {
    UpdateResult r =
        new UpdateResult(
            Protocol.SCHEMA_VERSION,
            assignmentId,
            commandId,
            outcome,
            model,
            active,
            null,
            reason,
            null,
            Instant.now());
    publish(topics.updateResult(), Json.write(r), 1, false);
  }

  private final class Callback implements MqttCallback {
    @Override
    public void messageArrived(String topic, MqttMessage message) {
      worker.execute(
          () -> {
            try {
              if (topic.equals(topics.updateAssignment())) {
                onAssignment(message.getPayload());
              } else if (topic.equals(topics.updateChunk())) {
                onChunk(message);
              } else if (topic.equals(topics.updateCommand())) {
                onCommand(message.getPayload());
              }
            } catch (Exception e) {
              System.err.println(topics.node() + ": " + e);
            }
          });
    }

    @Override
    public void disconnected(MqttDisconnectResponse r) {}

    @Override
    public void mqttErrorOccurred(MqttException e) {}

    @Override
    public void deliveryComplete(IMqttToken t) {}

    @Override
    public void connectComplete(boolean reconnect, String uri) {}

    @Override
    public void authPacketArrived(int code, MqttProperties p) {}
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        publish(topics.status(), Json.write(NodeStatus.shutdown(Instant.now())), 1, true);
        publisher.awaitIdle(5000);
        client.disconnect().waitForCompletion(5000);
      }
      client.close(true);
    } catch (MqttException e) {
      // closing anyway
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    worker.shutdownNow();
  }
}
