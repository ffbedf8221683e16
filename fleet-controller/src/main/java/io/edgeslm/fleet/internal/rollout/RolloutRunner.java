package io.edgeslm.fleet.internal.rollout;

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
import io.edgeslm.fleet.internal.catalog.Catalog;
import io.edgeslm.fleet.internal.mqtt.MqttTransport;
import io.edgeslm.fleet.internal.store.NodeStore;
import io.edgeslm.fleet.internal.store.RolloutStore;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import java.security.SecureRandom;
import java.time.Clock;
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
 * sends nothing.
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
  private final MqttTransport mqtt;
  private final Clock clock;
  private final Map<String, BundleInfo> bundles = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong dispatched = new AtomicLong();
  private final AtomicLong lostRaces = new AtomicLong();

  public RolloutRunner(
      RolloutStore rollouts, NodeStore nodes, Catalog catalog, MqttTransport mqtt, Clock clock) {
    this.rollouts = rollouts;
    this.nodes = nodes;
    this.catalog = catalog;
    this.mqtt = mqtt;
    this.clock = clock;
  }

  /** Assignments published since start. */
  public long dispatched() {
    return dispatched.get();
  }

  /** Steps this replica computed but another stored first. */
  public long lostRaces() {
    return lostRaces.get();
  }

  /**
   * Creates a rollout of a catalog bundle.
   *
   * @param id the rollout id, or null for a generated one
   */
  public RolloutState create(String id, RolloutPlanRequest request, String actor)
      throws FleetException {
    BundleInfo bundle = catalog.get(request.bundleId());
    RolloutPlan plan;
    try {
      plan = request.toPlan(bundle.model());
    } catch (IllegalArgumentException e) {
      throw new FleetInputException(e.getMessage(), e);
    }
    String rid = id != null ? id : newId();
    RolloutStep step;
    try {
      step = engine.create(rid, plan, actor, clock.instant());
    } catch (IllegalArgumentException e) {
      throw new FleetInputException(e.getMessage(), e);
    }
    rollouts.create(step.state(), step.audit());
    return step.state();
  }

  private String newId() {
    String alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
    StringBuilder b = new StringBuilder("r-");
    for (int i = 0; i < 10; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
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
      if (rollouts.compareAndSet(step.state(), s.revision(), step.audit())) {
        perform(step.state(), step.actions(), reason);
        return step.state();
      }
      lostRaces.incrementAndGet();
    }
    throw new FleetConflictException(
        "Rollout '" + id + "' kept changing while the command was applied. Retry the command.");
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
    RolloutStep step = engine.tick(s, view, clock.instant());
    if (!step.changed(s)) {
      return Optional.empty();
    }
    if (!rollouts.compareAndSet(step.state(), s.revision(), step.audit())) {
      lostRaces.incrementAndGet();
      return Optional.empty();
    }
    perform(step.state(), step.actions(), null);
    return Optional.of(step);
  }

  /** Publishes the messages of a stored step. */
  private void perform(RolloutState s, List<RolloutAction> actions, String reason)
      throws FleetException {
    if (actions.isEmpty()) {
      return;
    }
    BundleInfo bundle = bundle(s.plan().bundleId());
    Instant now = clock.instant();
    List<CompletableFuture<Void>> sent = new ArrayList<>();
    for (RolloutAction a : actions) {
      NodeTopics topics = Topics.node(a.site(), a.nodeId());
      switch (a) {
        case RolloutAction.Dispatch d -> {
          UpdateAssignment assignment =
              new UpdateAssignment(
                  Protocol.SCHEMA_VERSION,
                  d.assignmentId(),
                  s.id(),
                  bundle.bundleId(),
                  bundle.model(),
                  bundle.totalBytes(),
                  bundle.chunkBytes(),
                  bundle.files(),
                  topics.updateRequest(),
                  now);
          sent.add(mqtt.publishJson(topics.updateAssignment(), Json.write(assignment), 1, true));
          dispatched.incrementAndGet();
        }
        case RolloutAction.Cancel c -> {
          sent.add(command(topics, CommandAction.CANCEL, c.assignmentId(), reason, now));
          sent.add(clearAssignment(topics));
        }
        case RolloutAction.Rollback r -> {
          sent.add(command(topics, CommandAction.ROLLBACK, r.assignmentId(), reason, now));
          sent.add(clearAssignment(topics));
        }
      }
    }
    for (CompletableFuture<Void> f : sent) {
      try {
        f.join();
      } catch (RuntimeException e) {
        // The state is stored; a lost assignment times out and counts as a failure, which the
        // thresholds handle. Log and go on rather than stall the other nodes.
        LOG.warnf("rollout %s: a publish failed: %s", s.id(), e.getMessage());
      }
    }
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
    return mqtt.publishJson(topics.updateCommand(), Json.write(cmd), 1, false);
  }

  private CompletableFuture<Void> clearAssignment(NodeTopics topics) {
    return mqtt.publish(topics.updateAssignment(), new byte[0], 1, true, null, null, null);
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
    return Optional.of(bundle(s.get().plan().bundleId()));
  }

  /** Audit trail of a rollout. */
  public List<AuditEvent> audit(String id, int limit) throws FleetException {
    get(id);
    return rollouts.audit(id, limit);
  }
}
