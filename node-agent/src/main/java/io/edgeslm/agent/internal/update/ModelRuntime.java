package io.edgeslm.agent.internal.update;

import io.edgeslm.protocol.ModelRef;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What activation needs from the serving side: load a model in a fresh worker, warm it up, run its
 * activation check, switch traffic to it; and report health during the soak. {@link
 * SchedulerRuntime} implements it over the inference module's {@code Scheduler}.
 */
public interface ModelRuntime extends AutoCloseable {

  /**
   * Health counters since the runtime started (monotonic, like the agent's health message).
   *
   * @param ready whether a model serves
   * @param workerRestarts worker crashes and restarts
   * @param requests requests finished or failed
   * @param failures requests failed
   * @param tokensPerSecond recent generation speed, 0 when idle
   */
  record Sample(
      boolean ready, long workerRestarts, long requests, long failures, double tokensPerSecond) {}

  /**
   * Starts {@code gguf} in a new worker, warms it up, runs the activation check in {@code
   * evaluationFile} (if any) and only then switches traffic to it.
   *
   * @return the check's score, if a check ran
   * @throws UpdateException fault {@code MODEL}: {@code model_load_failed}, {@code
   *     activation_check_failed}; the model serving before keeps serving
   */
  OptionalDouble activate(Path gguf, Optional<Path> evaluationFile) throws UpdateException;

  /**
   * As {@link #activate(Path, Optional)}, naming the model being activated so that a runtime that
   * serves requests can label its answers and reports with it. The default ignores the name.
   *
   * @param model the identity of the model in {@code gguf} (the stored bundle's reference)
   */
  default OptionalDouble activate(ModelRef model, Path gguf, Optional<Path> evaluationFile)
      throws UpdateException {
    return activate(gguf, evaluationFile);
  }

  /**
   * Starts a model that passed its activation check before (the store's active model at boot, the
   * previous model on a rollback) without running the check again; the runtime reports {@code
   * recordedScore}, the score the check gave when the model was committed, as its activation score.
   * The default activates without a check and ignores the score.
   *
   * @throws UpdateException as {@link #activate(ModelRef, Path, Optional)}
   */
  default void serve(ModelRef model, Path gguf, OptionalDouble recordedScore)
      throws UpdateException {
    activate(model, gguf, Optional.empty());
  }

  /**
   * A LoRA adapter to apply on top of a base model.
   *
   * @param ref the adapter bundle's identity (for provenance: answers and health name it)
   * @param file the adapter's GGUF file
   * @param scale the scale the engine applies it at, set explicitly (llama-server applies every
   *     adapter given at start at 1.0 until told otherwise)
   */
  record Adapter(ModelRef ref, Path file, double scale) {
    public Adapter {
      java.util.Objects.requireNonNull(ref, "ref");
      java.util.Objects.requireNonNull(file, "file");
      if (!(scale >= 0 && scale <= 4)) {
        throw new IllegalArgumentException("adapter scale must be in [0, 4]: got " + scale + ".");
      }
    }
  }

  /**
   * As {@link #activate(ModelRef, Path, Optional)} with {@code adapter} applied on top of the base
   * model: the engine restarts with base + adapter, warms up, runs the check, then switches. The
   * default refuses an adapter ({@code model_load_failed}): a runtime must say it can apply one.
   */
  default OptionalDouble activate(
      ModelRef model, Path gguf, Optional<Adapter> adapter, Optional<Path> evaluationFile)
      throws UpdateException {
    if (adapter.isPresent()) {
      throw noAdapters();
    }
    return activate(model, gguf, evaluationFile);
  }

  /** As {@link #serve(ModelRef, Path, OptionalDouble)} with {@code adapter} on top of the base. */
  default void serve(
      ModelRef model, Path gguf, Optional<Adapter> adapter, OptionalDouble recordedScore)
      throws UpdateException {
    if (adapter.isPresent()) {
      throw noAdapters();
    }
    serve(model, gguf, recordedScore);
  }

  private static UpdateException noAdapters() {
    return new UpdateException(
        UpdateException.Fault.MODEL,
        io.edgeslm.protocol.ReasonCode.MODEL_LOAD_FAILED,
        "This node's model runtime cannot apply LoRA adapters; the current model keeps serving.");
  }

  /** Stops serving any model (no verified model left). */
  void unload();

  /** The current health sample. */
  Sample sample();

  @Override
  void close();
}
