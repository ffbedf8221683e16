package io.edgeslm.fleet.internal.rollout;

import io.edgeslm.fleet.AdapterBase;
import io.edgeslm.fleet.AuditEvent;
import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.FleetException;
import io.edgeslm.fleet.FleetInputException;
import io.edgeslm.fleet.FleetNode;
import io.edgeslm.fleet.FleetNotFoundException;
import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.RolloutAction;
import io.edgeslm.fleet.RolloutEngine;
import io.edgeslm.fleet.RolloutPlan;
import io.edgeslm.fleet.RolloutState;
import io.edgeslm.fleet.RolloutStatus;
import io.edgeslm.fleet.RolloutStep;
import io.edgeslm.fleet.SelectionPreview;
import io.edgeslm.fleet.internal.catalog.Catalog;
import io.edgeslm.fleet.internal.mqtt.FleetMqtt;
import io.edgeslm.fleet.internal.store.NodeStore;
import io.edgeslm.fleet.internal.store.OutboxStore;
import io.edgeslm.fleet.internal.store.RolloutStore;
import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.ReleaseKind;
import io.edgeslm.signing.ReleaseMetadata;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Runs the pure {@link RolloutEngine} against the database and MQTT. Every step is stored with a
 * compare-and-set on the rollout's revision before its messages are published, so two replicas that
 * tick the same rollout at the same time never both dispatch it: the loser's write fails and it
 * sends nothing. The step's messages are written to the outbox in the same transaction and
 * published from there (ADR 0010): a replica that stops between commit and publish leaves them for
 * {@link #drainOutbox} on another replica, so no assignment, command or clear is lost.
 */
public final class RolloutRunner {

  private static final Logger LOG = Logger.getLogger(RolloutRunner.class);

  /** An operator command. */
  public enum Command {
    APPROVE,
    PAUSE,
    RESUME,
    ABORT,
    ROLLBACK
  }

  private final RolloutEngine engine = new RolloutEngine();
  private final RolloutStore rollouts;
  private final NodeStore nodes;
  private final Catalog catalog;
  private final MqttConnection mqtt;
  private final Clock clock;
  private final Map<String, BundleInfo> bundles = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong dispatched = new AtomicLong();
  private final AtomicLong lostRaces = new AtomicLong();
  private final AtomicLong republished = new AtomicLong();
  private final OutboxStore outbox;
  private final String owner;
  private final Duration lease;
  private volatile boolean publishingSuspended;
  private volatile java.util.function.Consumer<String> changed = id -> {};

  /**
   * @param outbox where a step's messages are queued in the step's transaction
   * @param owner this replica's name in outbox claims (its MQTT client id)
   * @param lease how long a claimed outbox row is left to its claimer before another replica
   *     publishes it
   */
  public RolloutRunner(
      RolloutStore rollouts,
      NodeStore nodes,
      Catalog catalog,
      MqttConnection mqtt,
      OutboxStore outbox,
      String owner,
      Duration lease,
      Clock clock) {
    this.rollouts = rollouts;
    this.nodes = nodes;
    this.catalog = catalog;
    this.mqtt = mqtt;
    this.outbox = outbox;
    this.owner = owner;
    this.lease = lease;
    this.clock = clock;
  }

  /**
   * Called with a rollout's id after it was created or commanded, so the owner can step it at once
   * instead of at the next tick (a new rollout's first wave then starts without waiting up to a
   * tick interval).
   */
  public void onChange(java.util.function.Consumer<String> listener) {
    changed = listener;
  }

  /** Outbox rows published by the drain, i.e. left behind by a stopped or failed publisher. */
  public long republished() {
    return republished.get();
  }

  /**
   * For tests: store steps with their outbox rows but publish nothing, as if the process stopped
   * right after each commit.
   */
  public void suspendPublishing(boolean suspended) {
    publishingSuspended = suspended;
  }

  /** Assignments published since start. */
  public long dispatched() {
    return dispatched.get();
  }

  /** Steps this replica computed but another stored first. */
  public long lostRaces() {
    return lostRaces.get();
  }

  /** The one rollout id refused although it is a valid identifier. */
  public static final String RESERVED_ID = "new";

  /**
   * Creates a rollout of a catalog bundle.
   *
   * @param id the rollout id, or null for a generated one; {@value #RESERVED_ID} is refused
   */
  public RolloutState create(String id, RolloutPlanRequest request, String actor)
      throws FleetException {
    if (RESERVED_ID.equals(id)) {
      // The web UI's form lives at /ui/rollouts/new; a rollout of that id could not be opened.
      throw new FleetInputException(
          "Rollout id '"
              + RESERVED_ID
              + "' is reserved: /ui/rollouts/new is the page that creates rollouts. Choose another"
              + " id, or leave it empty for a generated one.");
    }
    BundleInfo bundle = catalog.get(request.bundleId());
    RolloutPlan plan;
    try {
      plan = request.toPlan(bundle.model());
    } catch (IllegalArgumentException e) {
      throw new FleetInputException(e.getMessage(), e);
    }
    Optional<String> base = adapterBase(bundle);
    if (base.isPresent()) {
      AdapterBase.requireBase(
          bundle.bundleId(),
          bundle.model().digest(),
          base.get(),
          plan.selector(),
          nodes.fleetNodes());
    }
    String rid = id != null ? id : newId();
    RolloutStep step;
    try {
      step = engine.create(rid, plan, actor, clock.instant());
    } catch (IllegalArgumentException e) {
      throw new FleetInputException(e.getMessage(), e);
    }
    rollouts.create(step.state(), step.audit());
    changed.accept(rid);
    return step.state();
  }

  /** The base model digest if the bundle is a LoRA adapter, from its signed release.json. */
  private static Optional<String> adapterBase(BundleInfo bundle) throws FleetStorageException {
    ReleaseMetadata release;
    try {
      release =
          ReleaseMetadata.parse(
              bundle.releaseJson().getBytes(java.nio.charset.StandardCharsets.UTF_8),
              "release.json of bundle " + bundle.bundleId());
    } catch (MalformedInputException e) {
      // It parsed when the bundle was verified at upload; failing now means the stored copy
      // changed.
      throw new FleetStorageException(
          "The stored release.json of bundle '"
              + bundle.bundleId()
              + "' no longer parses: "
              + e.getMessage()
              + " Upload the bundle again.",
          e);
    }
    return release.kind() == ReleaseKind.ADAPTER ? release.baseModelDigest() : Optional.empty();
  }

  private String newId() {
    return "r-" + randomSuffix();
  }

  /** Ten random characters that cannot be misread (no l, o, 0, 1). */
  private String randomSuffix() {
    String alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  /** Most nodes a {@link #preview} lists; its counts cover every matched node. */
  public static final int PREVIEW_LIMIT = 500;

  /**
   * Which nodes a rollout of this plan would reach if it were created now, by the engine's own
   * selection rule; nothing is stored. The plan is checked as {@link #create} checks it, except
   * that a missing name is allowed (a person previews before naming).
   */
  public SelectionPreview preview(RolloutPlanRequest request) throws FleetException {
    if (request.bundleId() == null || request.bundleId().isBlank()) {
      throw new FleetInputException(
          "bundleId is required: the preview needs the bundle's model to tell which nodes"
              + " already serve it. List bundles with GET /api/v1/bundles.");
    }
    BundleInfo bundle = catalog.get(request.bundleId());
    RolloutPlanRequest named =
        request.name() == null || request.name().isBlank()
            ? new RolloutPlanRequest(
                request.id(),
                "preview",
                request.bundleId(),
                request.selector(),
                request.waves(),
                request.thresholds(),
                request.gate(),
                request.windows())
            : request;
    RolloutPlan plan;
    try {
      plan = named.toPlan(bundle.model());
    } catch (IllegalArgumentException e) {
      throw new FleetInputException(e.getMessage(), e);
    }
    return SelectionPreview.of(plan, nodes.fleetNodes(), PREVIEW_LIMIT);
  }

  /**
   * A rollback command a person sent to one node, outside any rollout.
   *
   * @param commandId the command's id; the node's result and journal entries carry it
   * @param nodeId the node
   * @param sentAt when it was queued
   */
  public record NodeCommand(String commandId, String nodeId, Instant sentAt) {}

  /**
   * Tells one node to return to its previous model, through the outbox like a rollout's commands
   * (so a failed publish is retried by any replica). The node answers with an update result naming
   * the command id, which lands in its journal; a node without a previous model refuses there. A
   * rollout that counted the node as installed is not changed.
   *
   * @param reason why, with the actor, for the node's journal
   */
  public NodeCommand rollbackNode(String site, String nodeId, String actor, String reason)
      throws FleetException {
    Instant now = clock.instant();
    String commandId = truncate("rb." + nodeId + "." + randomSuffix());
    String why = actor + ": " + reason;
    publish(outbox.queueNodeRollback(site, nodeId, commandId, why, now, owner, now.plus(lease)));
    LOG.infof("node %s: rollback command %s sent by %s: %s", nodeId, commandId, actor, reason);
    return new NodeCommand(commandId, nodeId, now);
  }

  public RolloutState get(String id) throws FleetException {
    return rollouts
        .load(id)
        .orElseThrow(
            () ->
                new FleetNotFoundException(
                    "No rollout '" + id + "'. List rollouts with GET /api/v1/rollouts."));
  }

  /** Applies an operator command, retrying when another replica changed the rollout meanwhile. */
  public RolloutState command(String id, Command command, String actor, String reason)
      throws FleetException {
    for (int attempt = 0; attempt < 5; attempt++) {
      RolloutState s = get(id);
      Instant now = clock.instant();
      RolloutStep step =
          switch (command) {
            case APPROVE -> engine.approve(s, actor, reason, now);
            case PAUSE -> engine.pause(s, actor, reason, now);
            case RESUME -> engine.resume(s, actor, reason, now);
            case ABORT -> engine.abort(s, actor, reason, now);
            case ROLLBACK -> engine.rollback(s, actor, reason, now);
          };
      Optional<List<OutboxStore.Row>> queued = store(s, step, reason, now);
      if (queued.isPresent()) {
        publish(queued.get());
        logEnd(step.state());
        changed.accept(id);
        return step.state();
      }
      lostRaces.incrementAndGet();
    }
    throw new FleetConflictException(
        "Rollout '" + id + "' kept changing while the command was applied. Retry the command.");
  }

  /** One engine step for one rollout, now; failures are logged like the ticker's. */
  public void tickNow(String id) {
    try {
      tick(id, nodes.fleetNodes());
    } catch (FleetException | DbFleetView.StoreFailure e) {
      LOG.warnf("rollout %s: tick failed: %s", id, e.getMessage());
    }
  }

  /** One engine step for every active rollout. */
  public void tickAll() {
    List<String> ids;
    List<FleetNode> fleet;
    try {
      ids = rollouts.activeIds();
      if (ids.isEmpty()) {
        return;
      }
      fleet = nodes.fleetNodes();
    } catch (FleetStorageException e) {
      LOG.warnf("rollout tick skipped: %s", e.getMessage());
      return;
    }
    for (String id : ids) {
      try {
        tick(id, fleet);
      } catch (FleetException | DbFleetView.StoreFailure e) {
        LOG.warnf("rollout %s: tick failed: %s", id, e.getMessage());
      }
    }
  }

  /**
   * One engine step for one rollout.
   *
   * @return the step if this replica stored it, empty if nothing changed or another replica won
   */
  public Optional<RolloutStep> tick(String id, List<FleetNode> fleet) throws FleetException {
    Optional<RolloutState> loaded = rollouts.load(id);
    if (loaded.isEmpty()) {
      return Optional.empty();
    }
    RolloutState s = loaded.get();
    DbFleetView view = new DbFleetView(fleet, nodes.results(id), nodes);
    Instant now = clock.instant();
    RolloutStep step = engine.tick(s, view, now);
    if (!step.changed(s)) {
      return Optional.empty();
    }
    long t0 = System.nanoTime();
    Optional<List<OutboxStore.Row>> queued = store(s, step, null, now);
    if (queued.isEmpty()) {
      lostRaces.incrementAndGet();
      return Optional.empty();
    }
    long t1 = System.nanoTime();
    int sent = publish(queued.get());
    if (queued.get().size() >= 1000) {
      LOG.infof(
          "rollout %s: stored a step with %d messages in %d ms, published %d in %d ms",
          id,
          queued.get().size(),
          (t1 - t0) / 1_000_000,
          sent,
          (System.nanoTime() - t1) / 1_000_000);
    }
    logEnd(step.state());
    return Optional.of(step);
  }

  /**
   * Stores the step with a compare-and-set and, in the same transaction, queues its messages in the
   * outbox (claimed by this replica) and updates the retained-assignment record.
   *
   * @return the queued rows, or empty if another writer stored a newer state first
   */
  private Optional<List<OutboxStore.Row>> store(
      RolloutState from, RolloutStep step, String reason, Instant now) throws FleetException {
    List<RolloutAction> actions = step.actions();
    if (actions.isEmpty()) {
      return rollouts.compareAndSet(
          step.state(), from.revision(), step.audit(), c -> List.<OutboxStore.Row>of());
    }
    BundleInfo bundle = bundle(step.state().plan().bundleId());
    Map<String, Long> maxPackets =
        actions.stream().anyMatch(a -> a instanceof RolloutAction.Dispatch)
            ? nodes.maxPacketBytes()
            : Map.of();
    return rollouts.compareAndSet(
        step.state(),
        from.revision(),
        step.audit(),
        c ->
            outbox.queueActions(
                c,
                step.state().id(),
                bundle.bundleId(),
                actions,
                node -> chunkBytesFor(bundle, maxPackets.get(node)),
                reason,
                now,
                owner,
                now.plus(lease)));
  }

  /** Room kept in a node's maximum packet for the PUBLISH header, topic and chunk properties. */
  public static final int PACKET_OVERHEAD_BYTES = 4096;

  /**
   * The chunk size for a node: the bundle's, unless the node's maximum packet size (from its birth
   * message) cannot carry such a chunk; then the largest power of two that fits, at least {@link
   * UpdateAssignment#MIN_CHUNK_BYTES}, and large enough that no file exceeds the protocol's chunk
   * count limits.
   */
  public static int chunkBytesFor(BundleInfo bundle, Long maxPacketBytes) {
    int chunk = bundle.chunkBytes();
    if (maxPacketBytes == null || chunk + PACKET_OVERHEAD_BYTES <= maxPacketBytes) {
      return chunk;
    }
    long room = Math.max(0, maxPacketBytes - PACKET_OVERHEAD_BYTES);
    int fit =
        Math.max(
            UpdateAssignment.MIN_CHUNK_BYTES,
            Integer.highestOneBit((int) Math.min(room, Integer.MAX_VALUE)));
    while (fit < chunk && !withinChunkLimits(bundle, fit)) {
      fit *= 2;
    }
    return Math.min(fit, chunk);
  }

  private static boolean withinChunkLimits(BundleInfo bundle, int chunkBytes) {
    long total = 0;
    for (BundleFile f : bundle.files()) {
      long n = BundleFile.chunkCount(f.sizeBytes(), chunkBytes);
      if (n > BundleFile.MAX_CHUNKS) {
        return false;
      }
      total += n;
    }
    return total <= UpdateAssignment.MAX_TOTAL_CHUNKS;
  }

  /**
   * Publishes rows left in the outbox: those whose lease ran out (their claimer stopped or failed
   * to publish). Runs on every replica's ticker.
   *
   * @return rows published
   */
  public int drainOutbox() {
    int total = 0;
    try {
      while (true) {
        Instant now = clock.instant();
        List<OutboxStore.Row> rows = outbox.claimExpired(owner, now, now.plus(lease), 1000);
        if (rows.isEmpty()) {
          return total;
        }
        LOG.infof(
            "publishing %d outbox messages left by a stopped or failed publisher", rows.size());
        // A claim of up to 1000 rows may be part of a larger batch: delete only those rows.
        total += publish(rows, false);
        republished.addAndGet(rows.size());
        if (rows.size() < 1000) {
          return total;
        }
      }
    } catch (FleetException e) {
      LOG.warnf("outbox drain failed: %s", e.getMessage());
      return total;
    }
  }

  /** Makes this replica's own earlier claims available again; called once at start. */
  public void releaseOwnClaims() throws FleetException {
    int n = outbox.releaseClaimsOf(owner);
    if (n > 0) {
      LOG.infof("%d outbox messages of an earlier run of %s will be published", n, owner);
    }
  }

  /**
   * After a node's final result: clears its retained assignment, if it still holds that assignment
   * (a newer rollout's assignment is left alone).
   */
  public void clearAfterResult(String site, String nodeId, String assignmentId)
      throws FleetException {
    Instant now = clock.instant();
    publish(outbox.queueClear(site, nodeId, assignmentId, now, owner, now.plus(lease)));
  }

  /** Publishes the rows of whole batches just queued; see {@link #publish(List, boolean)}. */
  private int publish(List<OutboxStore.Row> rows) throws FleetException {
    return publish(rows, true);
  }

  /**
   * Publishes queued rows and deletes those the broker acknowledged; the others stay claimed until
   * their lease runs out and are then published again by a drain.
   *
   * @param wholeBatches whether {@code rows} are every row of their batch (a step's, just queued),
   *     so that a batch published without a failure can be deleted with one statement; a drain's
   *     claim is not, and deleting its batch whole would lose the batch's other rows
   * @return rows published
   */
  private int publish(List<OutboxStore.Row> rows, boolean wholeBatches) throws FleetException {
    if (rows.isEmpty() || publishingSuspended) {
      return 0;
    }
    List<CompletableFuture<Void>> sent = new ArrayList<>(rows.size());
    for (OutboxStore.Row r : rows) {
      try {
        sent.add(send(r));
      } catch (FleetException | RuntimeException e) {
        sent.add(CompletableFuture.failedFuture(e));
      }
    }
    List<OutboxStore.Row> done = new ArrayList<>(rows.size());
    String failure = null;
    for (int i = 0; i < rows.size(); i++) {
      try {
        sent.get(i).join();
        done.add(rows.get(i));
      } catch (RuntimeException e) {
        failure = e.getMessage();
      }
    }
    if (failure != null) {
      LOG.warnf(
          "%d of %d messages were not published (%s); they are retried after the %s lease",
          rows.size() - done.size(), rows.size(), failure, lease);
    }
    boolean oneBatch =
        wholeBatches
            && done.size() == rows.size()
            && rows.stream().allMatch(r -> r.batchId().equals(rows.get(0).batchId()));
    outbox.delete(done, oneBatch);
    return done.size();
  }

  private CompletableFuture<Void> send(OutboxStore.Row r) throws FleetException {
    NodeTopics topics = Topics.node(r.site(), r.nodeId());
    return switch (r.kind()) {
      case DISPATCH -> {
        BundleInfo base = bundle(r.bundleId());
        BundleInfo bundle =
            r.chunkBytes() == null ? base : catalog.withChunkBytes(base, r.chunkBytes());
        UpdateAssignment assignment =
            new UpdateAssignment(
                Protocol.SCHEMA_VERSION,
                r.assignmentId(),
                r.rolloutId(),
                bundle.bundleId(),
                bundle.model(),
                bundle.totalBytes(),
                bundle.chunkBytes(),
                bundle.files(),
                topics.updateRequest(),
                r.createdAt(),
                // an adapter's base, so a node serving another base refuses it before fetching
                adapterBase(base).orElse(null));
        dispatched.incrementAndGet();
        yield mqtt.publish(
            FleetMqtt.json(topics.updateAssignment(), Json.write(assignment), 1, true));
      }
      case CANCEL ->
          command(topics, CommandAction.CANCEL, r.assignmentId(), r.reason(), r.createdAt());
      case ROLLBACK ->
          command(topics, CommandAction.ROLLBACK, r.assignmentId(), r.reason(), r.createdAt());
      case CLEAR -> clearAssignment(topics);
      case NODE_ROLLBACK -> nodeRollback(topics, r.assignmentId(), r.reason(), r.createdAt());
    };
  }

  private static void logEnd(RolloutState s) {
    if (s.status() == RolloutStatus.ROLLED_BACK || s.status() == RolloutStatus.ABORTED) {
      LOG.infof("rollout %s is %s", s.id(), s.status());
    }
  }

  private CompletableFuture<Void> command(
      NodeTopics topics, CommandAction action, String assignmentId, String reason, Instant now) {
    String prefix = action == CommandAction.ROLLBACK ? "rb." : "cx.";
    UpdateCommand cmd =
        new UpdateCommand(
            Protocol.SCHEMA_VERSION,
            truncate(prefix + assignmentId),
            action,
            assignmentId,
            reason == null ? null : truncate(reason, 500),
            now,
            null);
    return mqtt.publish(FleetMqtt.json(topics.updateCommand(), Json.write(cmd), 1, false));
  }

  private CompletableFuture<Void> nodeRollback(
      NodeTopics topics, String commandId, String reason, Instant issuedAt) {
    UpdateCommand cmd =
        new UpdateCommand(
            Protocol.SCHEMA_VERSION,
            commandId,
            CommandAction.ROLLBACK,
            null,
            reason == null ? null : truncate(reason, 500),
            issuedAt,
            null);
    return mqtt.publish(FleetMqtt.json(topics.updateCommand(), Json.write(cmd), 1, false));
  }

  private CompletableFuture<Void> clearAssignment(NodeTopics topics) {
    // An empty retained payload clears the retained message (MQTT 5 section 3.3.1.3).
    return mqtt.publish(Message.of(topics.updateAssignment(), new byte[0], 1, true));
  }

  private static String truncate(String id) {
    return id.length() <= 128 ? id : id.substring(0, 128);
  }

  private static String truncate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max);
  }

  private BundleInfo bundle(String bundleId) throws FleetException {
    BundleInfo b = bundles.get(bundleId);
    if (b == null) {
      b = catalog.get(bundleId);
      if (bundles.size() > 256) {
        bundles.clear();
      }
      bundles.put(bundleId, b);
    }
    return b;
  }

  /** The bundle of an assignment issued to {@code nodeId}, for the chunk server. */
  public Optional<BundleInfo> bundleOfAssignment(String nodeId, String assignmentId)
      throws FleetException {
    int dot = assignmentId.indexOf('.');
    if (dot < 1 || !assignmentId.substring(dot + 1).equals(nodeId)) {
      return Optional.empty();
    }
    Optional<RolloutState> s = rollouts.load(assignmentId.substring(0, dot));
    if (s.isEmpty() || !s.get().targets().containsKey(nodeId)) {
      return Optional.empty();
    }
    BundleInfo b = bundle(s.get().plan().bundleId());
    // Serve at the chunk size the node's assignment was issued with.
    Integer chunkBytes = outbox.chunkBytesOf(nodeId, assignmentId);
    return Optional.of(chunkBytes == null ? b : catalog.withChunkBytes(b, chunkBytes));
  }

  /** Audit trail of a rollout. */
  public List<AuditEvent> audit(String id, int limit) throws FleetException {
    get(id);
    return rollouts.audit(id, limit);
  }
}
