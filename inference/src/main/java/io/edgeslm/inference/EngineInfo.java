package io.edgeslm.inference;

import java.util.Objects;

/**
 * The shape of a loaded model as the engine reports it.
 *
 * @param backend "worker" or "http"
 * @param model the model file name or the server's model id
 * @param contextSize total context tokens
 * @param parallelSlots requests decoded at once
 * @param modelBytes size of the model file, or -1 if unknown (HTTP)
 */
public record EngineInfo(
    String backend, String model, int contextSize, int parallelSlots, long modelBytes) {

  public EngineInfo {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(model, "model");
    if (contextSize < 1 || parallelSlots < 1) {
      throw new IllegalArgumentException("contextSize and parallelSlots must be positive");
    }
  }

  /** Context tokens one request may use: {@code contextSize / parallelSlots}. */
  public int contextPerSlot() {
    return contextSize / parallelSlots;
  }
}
