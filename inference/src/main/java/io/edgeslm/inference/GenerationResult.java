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
 * @param meanTokenProbability mean probability (0 to 1) the model gave the tokens it generated,
 *     when the engine reports token probabilities (llama-server and OpenAI-compatible servers that
 *     return {@code logprobs}); empty otherwise
 */
public record GenerationResult(
    String text,
    int promptTokens,
    int generatedTokens,
    FinishReason finishReason,
    GenerationTimings timings,
    java.util.OptionalDouble meanTokenProbability) {

  /** A result without token probabilities. */
  public GenerationResult(
      String text,
      int promptTokens,
      int generatedTokens,
      FinishReason finishReason,
      GenerationTimings timings) {
    this(
        text,
        promptTokens,
        generatedTokens,
        finishReason,
        timings,
        java.util.OptionalDouble.empty());
  }

  public GenerationResult {
    Objects.requireNonNull(meanTokenProbability, "meanTokenProbability");
    if (meanTokenProbability.isPresent()
        && !(meanTokenProbability.getAsDouble() >= 0 && meanTokenProbability.getAsDouble() <= 1)) {
      throw new IllegalArgumentException(
          "meanTokenProbability must be between 0 and 1, got " + meanTokenProbability);
    }
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(finishReason, "finishReason");
    Objects.requireNonNull(timings, "timings");
    if (promptTokens < -1 || generatedTokens < 0) {
      throw new IllegalArgumentException("Token counts cannot be negative");
    }
  }

  public GenerationResult withTimings(GenerationTimings t) {
    return new GenerationResult(
        text, promptTokens, generatedTokens, finishReason, t, meanTokenProbability);
  }
}
