package io.edgeslm.fleet;

/** Where a rollout is in its life. */
public enum RolloutStatus {
  /** Waves start as their conditions (approval, window, thresholds, gate) allow. */
  RUNNING,
  /** Stopped by an operator or by the error threshold; resume or abort. */
  PAUSED,
  /** Every wave passed; nodes that join later and match are still assigned. */
  COMPLETED,
  /** Stopped for good; nodes keep what they installed. */
  ABORTED,
  /** Every node that installed the new model was told to return to its previous model. */
  ROLLED_BACK;

  /** Whether nothing more will be dispatched. */
  public boolean isFinal() {
    return this == ABORTED || this == ROLLED_BACK;
  }
}
