package io.edgeslm.inference;

/** How a model swap uses memory. */
public enum SwapMode {
  /** Side by side when the free memory holds both models, otherwise stop first. */
  AUTO,
  /**
   * Start the new worker while the old one serves; switch traffic only after the new one passed
   * warm-up and its activation check. No gap in service; needs memory for both models.
   */
  SIDE_BY_SIDE,
  /**
   * Stop the old worker first (requests wait in the queue meanwhile), then start the new one. For
   * nodes whose memory holds one model only. If the new model fails, the old one is loaded again.
   */
  STOP_FIRST
}
