package io.edgeslm.fleet;

/** What a rollout does when a wave's failures exceed its error threshold. */
public enum ErrorAction {
  /** Stop dispatching and wait for an operator to resume or abort. */
  PAUSE,
  /** Stop for good; nodes keep what they installed. */
  ABORT,
  /** Stop and send every node that installed the new model back to its previous one. */
  ROLLBACK
}
