package io.edgeslm.inference;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** A running or queued generation. */
public interface Generation {

  /** An identifier unique within the engine or scheduler that issued it. */
  long id();

  /**
   * Asks generation to stop. The result completes with {@link FinishReason#CANCELLED} and the text
   * so far; cancelling a finished generation does nothing.
   */
  void cancel();

  /**
   * Completes with the result, or exceptionally with an {@link InferenceException} (engine died,
   * deadline passed, ...).
   */
  CompletableFuture<GenerationResult> result();

  /** Waits for the result and rethrows its failure as the {@link InferenceException} it is. */
  default GenerationResult await() throws InferenceException, InterruptedException {
    try {
      return result().get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof InferenceException ie) {
        throw ie;
      }
      throw new EngineUnavailableException(
          "Generation " + id() + " failed unexpectedly: " + e.getCause(), e.getCause());
    }
  }
}
