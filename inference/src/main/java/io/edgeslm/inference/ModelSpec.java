package io.edgeslm.inference;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What to load and how: a GGUF file and the llama.cpp parameters that shape its memory use.
 *
 * @param gguf the model file; must be a regular, readable file when the engine opens it
 * @param threads CPU threads for decoding, 1..256
 * @param contextSize total context in tokens, shared evenly by the slots, 128..1,048,576
 * @param parallelSlots requests decoded at once, 1..64; each gets {@code contextSize /
 *     parallelSlots} tokens of context
 * @param loraAdapters LoRA adapter files applied at load time, at most 8
 */
public record ModelSpec(
    Path gguf, int threads, int contextSize, int parallelSlots, List<Path> loraAdapters) {

  public static final int MAX_THREADS = 256;
  public static final int MIN_CONTEXT = 128;
  public static final int MAX_CONTEXT = 1 << 20;
  public static final int MAX_SLOTS = 64;
  public static final int MAX_LORA_ADAPTERS = 8;

  public ModelSpec {
    Objects.requireNonNull(gguf, "gguf");
    gguf = gguf.toAbsolutePath().normalize();
    if (threads < 1 || threads > MAX_THREADS) {
      throw new IllegalArgumentException(
          "threads must be in 1.." + MAX_THREADS + ", was " + threads + ". Use the core count.");
    }
    if (contextSize < MIN_CONTEXT || contextSize > MAX_CONTEXT) {
      throw new IllegalArgumentException(
          "contextSize must be in "
              + MIN_CONTEXT
              + ".."
              + MAX_CONTEXT
              + " tokens, was "
              + contextSize
              + ".");
    }
    if (parallelSlots < 1 || parallelSlots > MAX_SLOTS) {
      throw new IllegalArgumentException(
          "parallelSlots must be in 1.." + MAX_SLOTS + ", was " + parallelSlots + ".");
    }
    if (contextSize / parallelSlots < MIN_CONTEXT) {
      throw new IllegalArgumentException(
          "Each slot needs at least "
              + MIN_CONTEXT
              + " tokens of context: contextSize "
              + contextSize
              + " / parallelSlots "
              + parallelSlots
              + " is too small. Raise contextSize or lower parallelSlots.");
    }
    Objects.requireNonNull(loraAdapters, "loraAdapters");
    if (loraAdapters.size() > MAX_LORA_ADAPTERS) {
      throw new IllegalArgumentException(
          "At most " + MAX_LORA_ADAPTERS + " LoRA adapters, got " + loraAdapters.size() + ".");
    }
    loraAdapters = loraAdapters.stream().map(p -> p.toAbsolutePath().normalize()).toList();
  }

  /** A model with the given threads and context, one slot, no adapters. */
  public static ModelSpec of(Path gguf, int threads, int contextSize) {
    return new ModelSpec(gguf, threads, contextSize, 1, List.of());
  }

  public ModelSpec withParallelSlots(int slots) {
    return new ModelSpec(gguf, threads, contextSize, slots, loraAdapters);
  }

  public ModelSpec withLoraAdapters(List<Path> adapters) {
    return new ModelSpec(gguf, threads, contextSize, parallelSlots, adapters);
  }

  /** Context tokens available to one request: {@code contextSize / parallelSlots}. */
  public int contextPerSlot() {
    return contextSize / parallelSlots;
  }
}
