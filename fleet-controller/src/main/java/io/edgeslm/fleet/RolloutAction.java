package io.edgeslm.fleet;

/**
 * A message the rollout engine asks the wiring to send to a node. The engine never sends anything
 * itself; the controller publishes actions only after the new state is stored, so that a replica
 * whose write lost the race sends nothing.
 */
public sealed interface RolloutAction {

  /** The node the action is for. */
  String nodeId();

  /** Its site. */
  String site();

  /**
   * Publish the retained update assignment.
   *
   * @param assignmentId the assignment's id, {@code {rolloutId}.{nodeId}}
   */
  record Dispatch(String nodeId, String site, String assignmentId) implements RolloutAction {}

  /**
   * Withdraw the retained assignment: the node has not installed it and must not start.
   *
   * @param assignmentId the assignment to withdraw
   */
  record Cancel(String nodeId, String site, String assignmentId) implements RolloutAction {}

  /**
   * Tell the node to return to its previous model.
   *
   * @param assignmentId the assignment being rolled back
   * @param previousDigest the digest it served before, or null if it ran rules only
   */
  record Rollback(String nodeId, String site, String assignmentId, String previousDigest)
      implements RolloutAction {}
}
