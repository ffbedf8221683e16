package io.edgeslm.inference;

/**
 * The engine SPI: one loaded model that streams tokens. Implementations: the supervised llama.cpp
 * worker process (default) and an OpenAI-compatible HTTP server; both are opened through {@link
 * InferenceEngines#open(EngineConfig, ModelSpec)}.
 *
 * <p>Thread-safe. At most {@link EngineInfo#parallelSlots()} requests decode at once; further ones
 * wait inside the engine (use a {@link Scheduler} in front for priorities, bounds and deadlines).
 */
public interface InferenceEngine extends AutoCloseable {

  /** What is loaded and how it is shaped. */
  EngineInfo info();

  /**
   * Starts a generation and returns at once. Tokens go to {@code listener} as they arrive; the
   * returned handle's result completes when generation ends. If the engine fails meanwhile (worker
   * crash or hang, HTTP error) the result completes exceptionally with {@link
   * EngineUnavailableException}.
   *
   * @throws EngineUnavailableException if the engine is closed or has given up restarting
   */
  Generation generate(GenerationRequest request, TokenListener listener) throws InferenceException;

  /**
   * Counts the prompt's tokens with the model's own tokenizer, after applying the chat template for
   * chat requests. Backends without a tokenizer endpoint return an upper estimate.
   *
   * @throws EngineUnavailableException if the engine cannot answer now
   */
  int countPromptTokens(GenerationRequest request) throws InferenceException;

  /**
   * Whether the prompt fits in {@code limit} tokens, as cheaply as the engine can tell: returns a
   * number that is never below the prompt's token count and is at most {@code limit} exactly when
   * the count is. An engine that can bound the count without its tokenizer returns the bound when
   * it fits and counts only prompts near the limit; this default always counts.
   *
   * @throws EngineUnavailableException if the engine cannot answer now
   */
  default int countPromptTokensWithin(GenerationRequest request, int limit)
      throws InferenceException {
    return countPromptTokens(request);
  }

  /** Current state; never blocks. */
  EngineHealth health();

  /** Counters since the engine was opened; never blocks. */
  EngineStats stats();

  /**
   * The engine's own metrics, by Prometheus sample name (llama-server's {@code llamacpp:*} counters
   * and gauges: prompt and generated tokens, tokens per second, requests processing and deferred,
   * KV cache use); empty for engines without them. May take a moment (a local HTTP read, cached for
   * a few seconds).
   */
  default java.util.Map<String, Double> nativeMetrics() {
    return java.util.Map.of();
  }

  /**
   * Stops the engine: fails requests still running with {@link EngineUnavailableException}, ends
   * the worker process (and its whole process tree) or HTTP streams, and frees private files.
   * Idempotent.
   */
  @Override
  void close();
}
