package io.edgeslm.fleet;

/** Where one wave is. */
public enum WaveState {
  /** Not started: waiting for earlier waves, an approval or a maintenance window. */
  PENDING,
  /** Assignments sent; collecting install results. */
  ACTIVE,
  /** Enough nodes installed; the new model is serving until the health gate is due. */
  SOAKING,
  /** Thresholds and gate passed. */
  PASSED,
  /** The gate failed, or the errors ended the rollout. */
  FAILED
}
