package io.edgeslm.fleet;

/** Where one node of a rollout is. */
public enum TargetPhase {
  /** The assignment was sent; no result yet. */
  ASSIGNED,
  /** The node reported a successful install and activation. */
  INSTALLED,
  /** The node reported a failure, or sent nothing within the result timeout. */
  FAILED,
  /** The node's assignment was withdrawn before it reported a result. */
  CANCELLED,
  /** The node was told to return to its previous model. */
  ROLLBACK_SENT
}
