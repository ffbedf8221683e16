package io.edgeslm.inference;

/** Why a generation ended normally. Failures are exceptions, never a finish reason. */
public enum FinishReason {
  /** The model emitted end-of-sequence or a stop string. */
  STOP,
  /** {@code nPredict} tokens were generated. */
  LENGTH,
  /** The caller cancelled the generation. */
  CANCELLED
}
