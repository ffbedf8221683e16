package io.edgeslm.inference;

import java.util.List;
import java.util.Objects;

/**
 * One generation: either a raw prompt (sent as is) or chat messages (rendered with the model's chat
 * template), always with a bounded {@code nPredict}.
 *
 * <p>Output constraints: {@code grammar} (GBNF) or {@code jsonSchema} (a JSON Schema the engine
 * turns into a grammar), at most one of them. A schema constrains sampling only as far as the
 * converter understands it, so callers must still validate the result (see {@link
 * StructuredOutput}).
 *
 * @param prompt raw prompt text, or {@code null} when {@code messages} is used
 * @param messages chat turns, empty when {@code prompt} is used; at most {@value #MAX_MESSAGES}
 * @param nPredict tokens to generate at most, 1..{@value #MAX_N_PREDICT}
 * @param temperature sampling temperature, 0 (greedy) .. 2
 * @param seed sampling seed, or -1 for a random one
 * @param stopStrings strings that end generation, at most {@value #MAX_STOP_STRINGS} of at most
 *     {@value #MAX_STOP_CHARS} characters
 * @param grammar GBNF grammar or {@code null}
 * @param jsonSchema JSON Schema text or {@code null}
 * @param cacheSlot the engine slot whose KV cache this request should reuse, or -1 for any.
 *     Requests that share a long stable prefix (the Q&A task's system prompt and sensor catalogue)
 *     ask for the same slot so the engine evaluates only what changed; engines without slots ignore
 *     it. Must be below the engine's parallel slots, or the engine picks any.
 */
public record GenerationRequest(
    String prompt,
    List<ChatMessage> messages,
    int nPredict,
    double temperature,
    int seed,
    List<String> stopStrings,
    String grammar,
    String jsonSchema,
    int cacheSlot) {

  public static final int MAX_PROMPT_CHARS = 256 * 1024;
  public static final int MAX_MESSAGES = 64;
  public static final int MAX_N_PREDICT = 32_768;
  public static final int MAX_STOP_STRINGS = 8;
  public static final int MAX_STOP_CHARS = 64;
  public static final int MAX_GRAMMAR_CHARS = 256 * 1024;

  /** A request the engine may run on any slot. */
  public GenerationRequest(
      String prompt,
      List<ChatMessage> messages,
      int nPredict,
      double temperature,
      int seed,
      List<String> stopStrings,
      String grammar,
      String jsonSchema) {
    this(prompt, messages, nPredict, temperature, seed, stopStrings, grammar, jsonSchema, -1);
  }

  public GenerationRequest {
    if (cacheSlot < -1 || cacheSlot >= 64) {
      throw new IllegalArgumentException("cacheSlot must be -1 (any) or 0..63, was " + cacheSlot);
    }
    messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
    stopStrings = List.copyOf(Objects.requireNonNull(stopStrings, "stopStrings"));
    if ((prompt == null) == messages.isEmpty()) {
      throw new IllegalArgumentException(
          "A request carries either a prompt or chat messages, exactly one of them.");
    }
    if (prompt != null && prompt.length() > MAX_PROMPT_CHARS) {
      throw new IllegalArgumentException(
          "prompt may hold at most " + MAX_PROMPT_CHARS + " characters, got " + prompt.length());
    }
    if (messages.size() > MAX_MESSAGES) {
      throw new IllegalArgumentException(
          "At most " + MAX_MESSAGES + " chat messages, got " + messages.size() + ".");
    }
    long total = messages.stream().mapToLong(m -> m.content().length()).sum();
    if (total > MAX_PROMPT_CHARS) {
      throw new IllegalArgumentException(
          "Chat messages may hold at most " + MAX_PROMPT_CHARS + " characters, got " + total);
    }
    if (nPredict < 1 || nPredict > MAX_N_PREDICT) {
      throw new IllegalArgumentException(
          "nPredict must be in 1.." + MAX_N_PREDICT + ", was " + nPredict + ".");
    }
    if (!(temperature >= 0 && temperature <= 2)) {
      throw new IllegalArgumentException("temperature must be in 0..2, was " + temperature);
    }
    if (seed < -1) {
      throw new IllegalArgumentException("seed must be -1 (random) or >= 0, was " + seed);
    }
    if (stopStrings.size() > MAX_STOP_STRINGS) {
      throw new IllegalArgumentException(
          "At most " + MAX_STOP_STRINGS + " stop strings, got " + stopStrings.size() + ".");
    }
    for (String s : stopStrings) {
      if (s.isEmpty() || s.length() > MAX_STOP_CHARS) {
        throw new IllegalArgumentException(
            "A stop string must have 1.." + MAX_STOP_CHARS + " characters, got " + s.length());
      }
    }
    if (grammar != null && jsonSchema != null) {
      throw new IllegalArgumentException(
          "Give a grammar or a JSON schema, not both: the schema is turned into a grammar.");
    }
    if (grammar != null && (grammar.isBlank() || grammar.length() > MAX_GRAMMAR_CHARS)) {
      throw new IllegalArgumentException(
          "grammar must be non-blank and at most " + MAX_GRAMMAR_CHARS + " characters.");
    }
    if (jsonSchema != null && (jsonSchema.isBlank() || jsonSchema.length() > MAX_GRAMMAR_CHARS)) {
      throw new IllegalArgumentException(
          "jsonSchema must be non-blank and at most " + MAX_GRAMMAR_CHARS + " characters.");
    }
  }

  /** A raw prompt, greedy sampling with seed 0, no stop strings, no constraint. */
  public static GenerationRequest ofPrompt(String prompt, int nPredict) {
    return new GenerationRequest(
        Objects.requireNonNull(prompt, "prompt"), List.of(), nPredict, 0, 0, List.of(), null, null);
  }

  /** Chat messages, greedy sampling with seed 0, no stop strings, no constraint. */
  public static GenerationRequest ofChat(List<ChatMessage> messages, int nPredict) {
    return new GenerationRequest(null, messages, nPredict, 0, 0, List.of(), null, null);
  }

  public GenerationRequest withNPredict(int n) {
    return new GenerationRequest(
        prompt, messages, n, temperature, seed, stopStrings, grammar, jsonSchema, cacheSlot);
  }

  public GenerationRequest withSampling(double temp, int newSeed) {
    return new GenerationRequest(
        prompt, messages, nPredict, temp, newSeed, stopStrings, grammar, jsonSchema, cacheSlot);
  }

  public GenerationRequest withStopStrings(List<String> stops) {
    return new GenerationRequest(
        prompt, messages, nPredict, temperature, seed, stops, grammar, jsonSchema, cacheSlot);
  }

  public GenerationRequest withGrammar(String gbnf) {
    return new GenerationRequest(
        prompt, messages, nPredict, temperature, seed, stopStrings, gbnf, null, cacheSlot);
  }

  public GenerationRequest withJsonSchema(String schema) {
    return new GenerationRequest(
        prompt, messages, nPredict, temperature, seed, stopStrings, null, schema, cacheSlot);
  }

  /** The same request, asking to reuse slot {@code slot}'s cache (-1: any slot). */
  public GenerationRequest withCacheSlot(int slot) {
    return new GenerationRequest(
        prompt, messages, nPredict, temperature, seed, stopStrings, grammar, jsonSchema, slot);
  }

  public boolean isChat() {
    return prompt == null;
  }
}
