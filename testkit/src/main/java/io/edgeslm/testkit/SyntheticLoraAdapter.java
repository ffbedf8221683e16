package io.edgeslm.testkit;

import io.edgeslm.testkit.internal.gguf.GgufFileWriter;
import io.edgeslm.testkit.internal.gguf.LoraLayout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A synthetic GGUF LoRA adapter for a {@link SyntheticModel}: low-rank F32 pairs ({@code
 * <tensor>.lora_a}, {@code <tensor>.lora_b}) on the q/v projections and feed-forward matrices of
 * every block, random from a seed, that llama.cpp loads beside the base ({@code llama-server
 * --lora}) and that changes its greedy output. The same base, rank, alpha and seed always give the
 * same bytes.
 *
 * <pre>{@code
 * SyntheticModel base = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, 42);
 * Path lora = SyntheticLoraAdapter.of(base, 7).write(dir.resolve("plant.lora.gguf"));
 * }</pre>
 *
 * <p>Unlike a freshly initialised PEFT adapter (whose B matrices are zero), both halves are random
 * with standard deviation {@link #STDDEV}, large enough that the delta {@code alpha / rank · B·A}
 * is of the order of the base weights: an adapter that did not change the output would prove
 * nothing in a test.
 *
 * @param base the model the adapter applies to (its architecture and shapes)
 * @param rank LoRA rank, 1 to 256
 * @param alpha LoRA alpha; llama.cpp scales the delta by {@code alpha / rank} times the runtime
 *     scale
 * @param seed seed of the adapter weights
 */
public record SyntheticLoraAdapter(SyntheticModel base, int rank, float alpha, long seed) {
  /** Standard deviation of the adapter weights. */
  public static final float STDDEV = 0.1f;

  public SyntheticLoraAdapter {
    Objects.requireNonNull(base, "base");
    if (rank < 1 || rank > 256) {
      throw new IllegalArgumentException(
          "LoRA rank " + rank + " is outside 1..256; pick a small rank such as 8.");
    }
    if (!Float.isFinite(alpha) || alpha <= 0) {
      throw new IllegalArgumentException(
          "LoRA alpha "
              + alpha
              + " must be a positive finite number; the usual choice is 2 × rank.");
    }
  }

  /** An adapter of rank 8 and alpha 16 for {@code base}. */
  public static SyntheticLoraAdapter of(SyntheticModel base, long seed) {
    return new SyntheticLoraAdapter(base, 8, 16f, seed);
  }

  /**
   * Writes the adapter to {@code file} (parent directories are created; an existing file is
   * replaced atomically once the new one is complete).
   *
   * @return {@code file}
   * @throws IOException if the file cannot be written
   */
  public Path write(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    GgufFileWriter.write(
        file,
        LoraLayout.metadata(base.shape(), name(), alpha, seed, base.seed()),
        LoraLayout.tensors(base.shape(), rank, STDDEV),
        seed,
        done -> {});
    return file;
  }

  /** The adapter's {@code general.name}: base shape, rank and seed. */
  public String name() {
    return base.shape().name() + "-lora-r" + rank + "-seed" + seed;
  }

  /** A file name that says what the adapter is and never starts with {@code llama}. */
  public String suggestedFileName() {
    String n = name().replaceAll("[^A-Za-z0-9._-]", "_");
    return (n.startsWith("synthetic-") ? n : "synthetic-" + n) + ".lora.gguf";
  }
}
