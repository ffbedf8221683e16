package io.edgeslm.inference;

/** Scheduling class. Interactive requests always go before batch requests. */
public enum Priority {
  /** An operator is waiting (Q&A). */
  INTERACTIVE,
  /** Background work (sensor reports, evaluation). */
  BATCH
}
