package io.edgeslm.testkit;

import java.util.Locale;
import java.util.Objects;

/**
 * The hyper-parameters of a synthetic decoder-only transformer in llama.cpp's {@code llama} or
 * {@code qwen2} architecture.
 *
 * <p>Presets copy the published configurations: {@link #llama32_1b()} from {@code
 * meta-llama/Llama-3.2-1B/config.json} and {@link #qwen25_05b()} from {@code
 * Qwen/Qwen2.5-0.5B/config.json} on Hugging Face. A file written with one of them has the real
 * tensor shapes and sizes, so it loads and runs as fast as the real model; its text is noise.
 *
 * @param name a short label written to {@code general.name}
 * @param architecture llama.cpp architecture; {@link Architecture#QWEN2} adds q/k/v biases
 * @param blockCount transformer layers
 * @param embeddingLength model width ({@code n_embd}); a multiple of 32 and of {@code headCount}
 * @param headCount attention (query) heads
 * @param headCountKv key/value heads (grouped-query attention); divides {@code headCount}
 * @param feedForwardLength SwiGLU hidden width; a multiple of 32
 * @param vocabSize tokens; at least {@link #MIN_VOCAB_SIZE}
 * @param contextLength trained context length written to the metadata
 * @param ropeFreqBase RoPE theta
 * @param rmsNormEpsilon RMSNorm epsilon
 * @param tiedEmbeddings true: no {@code output.weight}, llama.cpp reuses {@code token_embd}
 * @param chatTemplate template stored in the file
 */
public record ModelShape(
    String name,
    Architecture architecture,
    int blockCount,
    int embeddingLength,
    int headCount,
    int headCountKv,
    int feedForwardLength,
    int vocabSize,
    int contextLength,
    float ropeFreqBase,
    float rmsNormEpsilon,
    boolean tiedEmbeddings,
    ChatTemplate chatTemplate) {

  /**
   * Smallest vocabulary the synthetic tokenizer fits in: special tokens, the 256 byte tokens and
   * the built-in word pieces.
   */
  public static final int MIN_VOCAB_SIZE = 2048;

  /** llama.cpp architectures the writer supports. */
  public enum Architecture {
    LLAMA("llama"),
    QWEN2("qwen2");

    private final String ggufName;

    Architecture(String ggufName) {
      this.ggufName = ggufName;
    }

    /** The value of {@code general.architecture} and the prefix of architecture keys. */
    public String ggufName() {
      return ggufName;
    }
  }

  public ModelShape {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(chatTemplate, "chatTemplate");
    requireRange("blockCount", blockCount, 1, 256);
    requireRange("embeddingLength", embeddingLength, 32, 32_768);
    requireRange("headCount", headCount, 1, 256);
    requireRange("headCountKv", headCountKv, 1, headCount);
    requireRange("feedForwardLength", feedForwardLength, 32, 131_072);
    requireRange("vocabSize", vocabSize, MIN_VOCAB_SIZE, 1 << 20);
    requireRange("contextLength", contextLength, 16, 1 << 24);
    if (embeddingLength % 32 != 0 || feedForwardLength % 32 != 0) {
      throw new IllegalArgumentException(
          "embeddingLength ("
              + embeddingLength
              + ") and feedForwardLength ("
              + feedForwardLength
              + ") must be multiples of 32, the quantization block size. Round them up to a"
              + " multiple of 32.");
    }
    if (embeddingLength % headCount != 0 || (embeddingLength / headCount) % 2 != 0) {
      throw new IllegalArgumentException(
          "embeddingLength ("
              + embeddingLength
              + ") must split into "
              + headCount
              + " heads of an even size (RoPE rotates pairs). Pick a head count that divides it.");
    }
    if (headCount % headCountKv != 0) {
      throw new IllegalArgumentException(
          "headCountKv ("
              + headCountKv
              + ") must divide headCount ("
              + headCount
              + ") for grouped-query attention.");
    }
    if (!(ropeFreqBase > 0 && Float.isFinite(ropeFreqBase))) {
      throw new IllegalArgumentException(
          "ropeFreqBase must be a positive finite number, got " + ropeFreqBase + ".");
    }
    if (!(rmsNormEpsilon > 0 && rmsNormEpsilon < 1)) {
      throw new IllegalArgumentException(
          "rmsNormEpsilon must be in (0, 1), got " + rmsNormEpsilon + ".");
    }
  }

  private static void requireRange(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          field + " must be between " + min + " and " + max + ", got " + value + ".");
    }
  }

  /**
   * A model small enough for unit and integration tests (about 3.4 MB in F32, 1 MB in Q8_0): 2
   * layers, width 128, 4 heads of 32, 2 KV heads, a 4096-token vocabulary, a Llama 3 chat template.
   */
  public static ModelShape tiny() {
    return new ModelShape(
        "edgeslm-tiny",
        Architecture.LLAMA,
        2,
        128,
        4,
        2,
        256,
        4096,
        2048,
        10_000f,
        1e-5f,
        true,
        ChatTemplate.LLAMA3);
  }

  /**
   * The shape of Meta Llama-3.2-1B: 16 layers, width 2048, 32 heads, 8 KV heads, feed-forward 8192,
   * vocabulary 128256, RoPE theta 500000, RMS epsilon 1e-5, tied embeddings, context 131072. In
   * Q4_0 the file is about 700 MB.
   */
  public static ModelShape llama32_1b() {
    return new ModelShape(
        "synthetic-llama-3.2-1b",
        Architecture.LLAMA,
        16,
        2048,
        32,
        8,
        8192,
        128_256,
        131_072,
        500_000f,
        1e-5f,
        true,
        ChatTemplate.LLAMA3);
  }

  /**
   * The shape of Qwen2.5-0.5B: 24 layers, width 896, 14 heads, 2 KV heads, feed-forward 4864,
   * vocabulary 151936, RoPE theta 1e6, RMS epsilon 1e-6, tied embeddings, q/k/v biases, context
   * 32768, ChatML template.
   */
  public static ModelShape qwen25_05b() {
    return new ModelShape(
        "synthetic-qwen2.5-0.5b",
        Architecture.QWEN2,
        24,
        896,
        14,
        2,
        4864,
        151_936,
        32_768,
        1_000_000f,
        1e-6f,
        true,
        ChatTemplate.CHATML);
  }

  /**
   * A preset by its command-line name: {@code tiny}, {@code llama-3.2-1b}, {@code qwen2.5-0.5b}.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static ModelShape preset(String cliName) {
    return switch (cliName.trim().toLowerCase(Locale.ROOT)) {
      case "tiny" -> tiny();
      case "llama-3.2-1b" -> llama32_1b();
      case "qwen2.5-0.5b" -> qwen25_05b();
      default ->
          throw new IllegalArgumentException(
              "Unknown shape '" + cliName + "'. Use one of: tiny, llama-3.2-1b, qwen2.5-0.5b.");
    };
  }

  /** Width of one attention head. */
  public int headDimension() {
    return embeddingLength / headCount;
  }

  /** Width of the key and value projections ({@code n_embd_k_gqa}). */
  public int kvWidth() {
    return headDimension() * headCountKv;
  }

  /** True for architectures whose attention has q/k/v bias vectors. */
  public boolean hasQkvBias() {
    return architecture == Architecture.QWEN2;
  }

  /** A copy with another vocabulary size (for example to shrink a benchmark's output layer). */
  public ModelShape withVocabSize(int newVocabSize) {
    return new ModelShape(
        name,
        architecture,
        blockCount,
        embeddingLength,
        headCount,
        headCountKv,
        feedForwardLength,
        newVocabSize,
        contextLength,
        ropeFreqBase,
        rmsNormEpsilon,
        tiedEmbeddings,
        chatTemplate);
  }

  /** A copy with another chat template. */
  public ModelShape withChatTemplate(ChatTemplate template) {
    return new ModelShape(
        name,
        architecture,
        blockCount,
        embeddingLength,
        headCount,
        headCountKv,
        feedForwardLength,
        vocabSize,
        contextLength,
        ropeFreqBase,
        rmsNormEpsilon,
        tiedEmbeddings,
        template);
  }
}
