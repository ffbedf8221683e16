package io.edgeslm.inference;

import java.util.Objects;

/**
 * A finished generation.
 *
 * @param text everything generated, stop string excluded
 * @param promptTokens prompt length in the model's tokens (after the chat template), or -1 when the
 *     backend does not report it
 * @param generatedTokens tokens generated
 * @param finishReason why generation ended
 * @param timings time to first token, generation time and speed
 */
public record GenerationResult(
    String text,
    int promptTokens,
    int generatedTokens,
    FinishReason finishReason,
    GenerationTimings timings) {

  public GenerationResult {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(finishReason, "finishReason");
    Objects.requireNonNull(timings, "timings");
    if (promptTokens < -1 || generatedTokens < 0) {
      throw new IllegalArgumentException("Token counts cannot be negative");
    }
  }

  public GenerationResult withTimings(GenerationTimings t) {
    return new GenerationResult(text, promptTokens, generatedTokens, finishReason, t);
  }
}
