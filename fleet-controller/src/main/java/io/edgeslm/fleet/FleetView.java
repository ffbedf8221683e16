package io.edgeslm.fleet;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the rollout engine reads about the fleet: the registry, install results and health history.
 * The controller implements it over its database; tests and the benchmark over a simulated fleet.
 * Implementations return a consistent snapshot for one engine step.
 */
public interface FleetView {

  /** Every registered node, in any order. */
  List<FleetNode> nodes();

  /** The node's final result for the assignment, if it reported one. */
  Optional<InstallResult> outcome(String nodeId, String assignmentId);

  /**
   * The node's health while it served the model with {@code modelDigest} in {@code [from, to)}.
   *
   * @return empty if the node sent no health for that model in the period
   */
  Optional<ModelMetrics> metrics(String nodeId, String modelDigest, Instant from, Instant to);
}
