package io.edgeslm.testkit;

import io.edgeslm.testkit.internal.gguf.GgufFileWriter;
import io.edgeslm.testkit.internal.gguf.ModelLayout;
import io.edgeslm.testkit.internal.vocab.SyntheticVocabulary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * A synthetic GGUF model that llama.cpp loads and runs: a real architecture and shape, random
 * weights from a seed, a SentencePiece-style vocabulary that round-trips any text, and a chat
 * template. The same shape, quantization and seed always give the same bytes.
 *
 * <pre>{@code
 * Path gguf = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, 42).write(dir.resolve("m.gguf"));
 * }</pre>
 *
 * <p>Matrices are encoded as {@code quantization} says; norm weights (ones) and q/k/v biases stay
 * F32, as in llama.cpp's own quantized files. Weights are approximately Gaussian with standard
 * deviation 0.02, so activations stay finite. Do not name the file {@code llama*}: the {@code
 * de.kherud:llama} binding deletes such files in its temp directory.
 *
 * @param shape architecture and sizes
 * @param quantization encoding of the matrices
 * @param seed seed of the weights
 */
public record SyntheticModel(ModelShape shape, Quantization quantization, long seed) {
  public SyntheticModel {
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(quantization, "quantization");
    ModelLayout.tensors(shape, quantization); // refuses rows that do not fit the blocks
    if (shape.vocabSize() < SyntheticVocabulary.coreSize()) {
      throw new IllegalArgumentException(
          "Shape '"
              + shape.name()
              + "' has a vocabulary of "
              + shape.vocabSize()
              + " tokens; the synthetic tokenizer needs at least "
              + SyntheticVocabulary.coreSize()
              + ". Raise vocabSize.");
    }
  }

  /**
   * A model whose matrices all use {@code type} (F32, Q8_0 or Q4_0).
   *
   * @throws IllegalArgumentException for a K-quant type: use {@link Quantization#Q4_K_M}
   */
  public static SyntheticModel of(ModelShape shape, GgmlType type, long seed) {
    return of(shape, Quantization.of(type), seed);
  }

  /**
   * A model in {@code quantization}.
   *
   * @throws IllegalArgumentException if a matrix row of {@code shape} does not fit a block of the
   *     types {@code quantization} picks (K-quants need multiples of 256)
   */
  public static SyntheticModel of(ModelShape shape, Quantization quantization, long seed) {
    return new SyntheticModel(shape, quantization, seed);
  }

  /**
   * Writes the model to {@code file} (parent directories are created; an existing file is replaced
   * atomically once the new one is complete).
   *
   * @return {@code file}
   * @throws IOException if the file cannot be written
   */
  public Path write(Path file) throws IOException {
    write(file, done -> {});
    return file;
  }

  /**
   * Writes the model, reporting progress.
   *
   * @param progress receives the tensor-data bytes written so far (out of {@link
   *     #tensorDataBytes()}), after each tensor and at least every 64 MiB
   * @return the size of the file in bytes
   * @throws IOException if the file cannot be written
   */
  public long write(Path file, LongConsumer progress) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(progress, "progress");
    SyntheticVocabulary vocab = vocabulary();
    return GgufFileWriter.write(
        file,
        ModelLayout.metadata(shape, quantization, seed, vocab),
        ModelLayout.tensors(shape, quantization),
        seed,
        progress);
  }

  /** Bytes of tensor data the file will hold (the file adds its header, a few MB at most). */
  public long tensorDataBytes() {
    return GgufFileWriter.dataBytes(ModelLayout.tensors(shape, quantization));
  }

  /** A file name that says what the model is and never starts with {@code llama}. */
  public String suggestedFileName() {
    return "synthetic-"
        + shape.name().replaceAll("[^A-Za-z0-9._-]", "_")
        + "-"
        + quantization.cliName()
        + "-seed"
        + seed
        + ".gguf";
  }

  /** The token strings of the vocabulary, by id. */
  public java.util.List<String> tokens() {
    return vocabulary().tokens();
  }

  /** Id of the BOS token. */
  public int bosTokenId() {
    return vocabulary().bosId();
  }

  /** Id of the EOS token: the chat template's end-of-turn token. */
  public int eosTokenId() {
    return vocabulary().eosId();
  }

  private SyntheticVocabulary vocabulary() {
    return SyntheticVocabulary.of(shape.vocabSize(), shape.chatTemplate());
  }
}
