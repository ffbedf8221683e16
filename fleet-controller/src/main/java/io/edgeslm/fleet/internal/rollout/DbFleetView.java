package io.edgeslm.fleet.internal.rollout;

import io.edgeslm.fleet.FleetNode;
import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.FleetView;
import io.edgeslm.fleet.InstallResult;
import io.edgeslm.fleet.ModelMetrics;
import io.edgeslm.fleet.internal.store.NodeStore;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The fleet as the database holds it, loaded once per engine step. */
final class DbFleetView implements FleetView {

  /** A database failure inside an engine step; the step is abandoned and retried next tick. */
  static final class StoreFailure extends RuntimeException {
    StoreFailure(FleetStorageException cause) {
      super(cause.getMessage(), cause);
    }
  }

  private final List<FleetNode> nodes;
  private final Map<String, InstallResult> results;
  private final NodeStore store;

  DbFleetView(List<FleetNode> nodes, Map<String, InstallResult> results, NodeStore store) {
    this.nodes = nodes;
    this.results = results;
    this.store = store;
  }

  @Override
  public List<FleetNode> nodes() {
    return nodes;
  }

  @Override
  public Optional<InstallResult> outcome(String nodeId, String assignmentId) {
    return Optional.ofNullable(results.get(assignmentId));
  }

  @Override
  public Optional<ModelMetrics> metrics(String nodeId, String digest, Instant from, Instant to) {
    try {
      return store.metrics(nodeId, digest, from, to);
    } catch (FleetStorageException e) {
      throw new StoreFailure(e);
    }
  }
}
