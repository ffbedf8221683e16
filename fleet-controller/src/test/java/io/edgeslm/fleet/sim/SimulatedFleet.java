package io.edgeslm.fleet.sim;

import io.edgeslm.fleet.FleetNode;
import io.edgeslm.fleet.FleetView;
import io.edgeslm.fleet.InstallResult;
import io.edgeslm.fleet.ModelMetrics;
import io.edgeslm.fleet.RolloutAction;
import io.edgeslm.protocol.ModelRef;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-process fleet for the rollout engine: nodes that install what they are assigned after a
 * delay (or fail, as configured), serve a model with configured health, and roll back when told. It
 * answers the engine through {@link FleetView} exactly as the database-backed view does.
 */
public final class SimulatedFleet implements FleetView {

  private final Map<String, SimNode> nodes = new TreeMap<>();
  private final Map<String, InstallResult> outcomes = new ConcurrentHashMap<>();
  private final Map<String, ModelRef> models = new HashMap<>();
  private final Map<String, ModelMetrics> performance = new HashMap<>();
  private final Set<String> failing = new HashSet<>();
  private final Set<String> silent = new HashSet<>();
  private final List<Pending> pending = new ArrayList<>();
  private final Map<String, Integer> dispatches = new ConcurrentHashMap<>();
  private final Map<String, Integer> rollbacks = new ConcurrentHashMap<>();
  private Duration installTime = Duration.ofMinutes(5);

  private record Pending(String nodeId, String assignmentId, ModelRef model, Instant due) {}

  private record Serving(String digest, Instant from) {}

  private static final class SimNode {
    final String id;
    final String site;
    boolean online = true;
    final Map<String, String> labels;
    final String arch;
    ModelRef active;
    final List<Serving> history = new ArrayList<>();

    SimNode(String id, String site, String arch, Map<String, String> labels) {
      this.id = id;
      this.site = site;
      this.arch = arch;
      this.labels = labels;
    }

    FleetNode view() {
      return new FleetNode(id, site, online, arch, "gw-8g", 8L << 30, labels, active);
    }

    void serve(ModelRef model, Instant at) {
      active = model;
      history.add(new Serving(model == null ? null : model.digest(), at));
    }
  }

  /**
   * Adds {@code count} online nodes {@code prefix-0000…} serving {@code model} since {@code at}.
   */
  public SimulatedFleet addNodes(
      String prefix, int count, ModelRef model, Map<String, String> labels, Instant at) {
    for (int i = 0; i < count; i++) {
      addNode(String.format("%s-%04d", prefix, i), "plant-1", "amd64", labels, model, at);
    }
    return this;
  }

  public SimulatedFleet addNode(
      String id, String site, String arch, Map<String, String> labels, ModelRef model, Instant at) {
    SimNode n = new SimNode(id, site, arch, labels == null ? Map.of() : labels);
    n.serve(model, at);
    nodes.put(id, n);
    if (model != null) {
      models.put(model.digest(), model);
    }
    return this;
  }

  /** Health that every node reports while serving {@code model}. */
  public SimulatedFleet perform(ModelRef model, ModelMetrics metrics) {
    models.put(model.digest(), model);
    performance.put(model.digest(), metrics);
    return this;
  }

  /** Makes {@code nodeId} fail every install. */
  public SimulatedFleet failInstalls(String nodeId) {
    failing.add(nodeId);
    return this;
  }

  /** Makes {@code nodeId} never report a result. */
  public SimulatedFleet silence(String nodeId) {
    silent.add(nodeId);
    return this;
  }

  public SimulatedFleet installTime(Duration d) {
    installTime = d;
    return this;
  }

  public SimulatedFleet setOnline(String nodeId, boolean online) {
    nodes.get(nodeId).online = online;
    return this;
  }

  /** The nodes receive the actions (as if over MQTT). */
  public synchronized void deliver(List<RolloutAction> actions, ModelRef target, Instant now) {
    for (RolloutAction a : actions) {
      SimNode n = nodes.get(a.nodeId());
      switch (a) {
        case RolloutAction.Dispatch d -> {
          dispatches.merge(d.nodeId(), 1, Integer::sum);
          if (!silent.contains(n.id)) {
            pending.add(new Pending(n.id, d.assignmentId(), target, now.plus(installTime)));
          }
        }
        case RolloutAction.Cancel c ->
            pending.removeIf(
                p -> p.nodeId().equals(c.nodeId()) && p.assignmentId().equals(c.assignmentId()));
        case RolloutAction.Rollback r -> {
          rollbacks.merge(r.nodeId(), 1, Integer::sum);
          n.serve(r.previousDigest() == null ? null : models.get(r.previousDigest()), now);
        }
      }
    }
  }

  /** Installs whose time has come finish (or fail). */
  public synchronized void advanceTo(Instant now) {
    pending.removeIf(
        p -> {
          if (p.due().isAfter(now)) {
            return false;
          }
          SimNode n = nodes.get(p.nodeId());
          if (failing.contains(n.id)) {
            outcomes.put(
                key(n.id, p.assignmentId()),
                new InstallResult(false, p.due(), "activation check failed: score 0.10 < 0.50"));
          } else {
            n.serve(p.model(), p.due());
            outcomes.put(key(n.id, p.assignmentId()), new InstallResult(true, p.due(), null));
          }
          return true;
        });
  }

  public int dispatchCount(String nodeId) {
    return dispatches.getOrDefault(nodeId, 0);
  }

  public Map<String, Integer> dispatches() {
    return Map.copyOf(dispatches);
  }

  public int rollbackCount(String nodeId) {
    return rollbacks.getOrDefault(nodeId, 0);
  }

  public synchronized String activeDigest(String nodeId) {
    ModelRef m = nodes.get(nodeId).active;
    return m == null ? null : m.digest();
  }

  public synchronized long countServing(ModelRef model) {
    return nodes.values().stream()
        .filter(n -> n.active != null && n.active.digest().equals(model.digest()))
        .count();
  }

  @Override
  public synchronized List<FleetNode> nodes() {
    return nodes.values().stream().map(SimNode::view).toList();
  }

  @Override
  public Optional<InstallResult> outcome(String nodeId, String assignmentId) {
    return Optional.ofNullable(outcomes.get(key(nodeId, assignmentId)));
  }

  @Override
  public synchronized Optional<ModelMetrics> metrics(
      String nodeId, String modelDigest, Instant from, Instant to) {
    SimNode n = nodes.get(nodeId);
    List<Serving> h = n.history;
    for (int i = 0; i < h.size(); i++) {
      Instant start = h.get(i).from();
      Instant end = i + 1 < h.size() ? h.get(i + 1).from() : Instant.MAX;
      boolean overlaps = start.isBefore(to) && end.isAfter(from);
      if (overlaps && modelDigest.equals(h.get(i).digest())) {
        return Optional.ofNullable(performance.get(modelDigest));
      }
    }
    return Optional.empty();
  }

  private static String key(String nodeId, String assignmentId) {
    return nodeId + "|" + assignmentId;
  }
}
