package io.edgeslm.testkit;

import java.util.Locale;
import java.util.Objects;

/**
 * The hyper-parameters of a synthetic decoder-only transformer in one of llama.cpp's {@code llama},
 * {@code qwen2}, {@code qwen3} or {@code gemma3} architectures.
 *
 * <p>Presets copy the published configurations ({@code config.json} on Hugging Face): {@link
 * #llama32_1b()} from {@code meta-llama/Llama-3.2-1B}, {@link #qwen25_05b()} from {@code
 * Qwen/Qwen2.5-0.5B}, {@link #qwen3_06b()} from {@code Qwen/Qwen3-0.6B}, {@link #gemma3_1b()} from
 * {@code google/gemma-3-1b-it}. A file written with one of them has the real tensor shapes and
 * sizes, so it loads and runs as fast as the real model; its text is noise.
 *
 * @param name a short label written to {@code general.name}
 * @param architecture llama.cpp architecture; {@link Architecture#QWEN2} adds q/k/v biases
 * @param blockCount transformer layers
 * @param embeddingLength model width ({@code n_embd}); a multiple of 32 and of {@code headCount}
 * @param headCount attention (query) heads
 * @param headCountKv key/value heads (grouped-query attention); divides {@code headCount}
 * @param headDimension width of one attention head ({@code attention.key_length}); Qwen3 and Gemma
 *     3 use heads wider than {@code embeddingLength / headCount}
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
    int headDimension,
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

  /**
   * llama.cpp architectures the writer supports, with the tensors each adds to the Llama layout
   * (llama.cpp {@code src/models/<arch>.cpp}, {@code load_arch_tensors}).
   */
  public enum Architecture {
    /** Llama 2/3: the plain layout. */
    LLAMA("llama"),
    /** Qwen2/2.5: bias vectors on the q, k and v projections. */
    QWEN2("qwen2"),
    /** Qwen3: per-head RMS norms of queries and keys ({@code attn_q_norm}, {@code attn_k_norm}). */
    QWEN3("qwen3"),
    /**
     * Gemma 3: per-head q/k norms, norms after attention and feed-forward ({@code
     * post_attention_norm}, {@code post_ffw_norm}), sliding-window attention in five of six layers.
     */
    GEMMA3("gemma3");

    private final String ggufName;

    Architecture(String ggufName) {
      this.ggufName = ggufName;
    }

    /** The value of {@code general.architecture} and the prefix of architecture keys. */
    public String ggufName() {
      return ggufName;
    }

    /**
     * Parses a command-line name: {@code llama}, {@code qwen2}, {@code qwen3}, {@code gemma3}.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Architecture parse(String name) {
      for (Architecture a : values()) {
        if (a.ggufName.equalsIgnoreCase(name.trim())) {
          return a;
        }
      }
      throw new IllegalArgumentException(
          "Unknown architecture '" + name + "'. Use one of: llama, qwen2, qwen3, gemma3.");
    }
  }

  /**
   * A shape whose heads are {@code embeddingLength / headCount} wide (Llama, Qwen2).
   *
   * @see ModelShape the canonical constructor for the parameters
   */
  public ModelShape(
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
    this(
        name,
        architecture,
        blockCount,
        embeddingLength,
        headCount,
        headCountKv,
        evenSplit(embeddingLength, headCount),
        feedForwardLength,
        vocabSize,
        contextLength,
        ropeFreqBase,
        rmsNormEpsilon,
        tiedEmbeddings,
        chatTemplate);
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
    requireRange("headDimension", headDimension, 2, 1024);
    if (headDimension % 2 != 0 || (headCount * headDimension) % 32 != 0) {
      throw new IllegalArgumentException(
          "headDimension ("
              + headDimension
              + ") must be even (RoPE rotates pairs) and headCount x headDimension ("
              + headCount * headDimension
              + ") a multiple of 32, the quantization block size.");
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

  private static int evenSplit(int embeddingLength, int headCount) {
    if (headCount < 1 || embeddingLength % headCount != 0) {
      throw new IllegalArgumentException(
          "embeddingLength ("
              + embeddingLength
              + ") must split into "
              + headCount
              + " heads of an even size (RoPE rotates pairs). Pick a head count that divides it.");
    }
    return embeddingLength / headCount;
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
   * The shape of Qwen3-0.6B: 28 layers, width 1024, 16 query heads and 8 KV heads of 128 (so the
   * query projection is 2048 wide), feed-forward 3072, vocabulary 151936, RoPE theta 1e6, RMS
   * epsilon 1e-6, tied embeddings, context 40960, the Qwen3 template with its thinking switch.
   */
  public static ModelShape qwen3_06b() {
    return new ModelShape(
        "synthetic-qwen3-0.6b",
        Architecture.QWEN3,
        28,
        1024,
        16,
        8,
        128,
        3072,
        151_936,
        40_960,
        1_000_000f,
        1e-6f,
        true,
        ChatTemplate.QWEN3);
  }

  /**
   * The shape of Gemma 3 1B: 26 layers, width 1152, 4 query heads and 1 KV head of 256,
   * feed-forward 6912, vocabulary 262144, RoPE theta 1e6 (10000 in the sliding-window layers),
   * window 512, RMS epsilon 1e-6, tied embeddings, context 32768, the Gemma turn template. Its
   * width is not a multiple of 256, so it has no Q4_K_M form here (llama.cpp falls back to Q5_0 for
   * such rows, a type this kit does not write).
   */
  public static ModelShape gemma3_1b() {
    return new ModelShape(
        "synthetic-gemma3-1b",
        Architecture.GEMMA3,
        26,
        1152,
        4,
        1,
        256,
        6912,
        262_144,
        32_768,
        1_000_000f,
        1e-6f,
        true,
        ChatTemplate.GEMMA);
  }

  /**
   * A test-sized model of {@code architecture} whose every row is a multiple of 256 weights, so it
   * can be written in every {@link Quantization} including the K-quants: 2 layers, width 256, 4
   * heads of 64, 2 KV heads (1 for Gemma 3), feed-forward 512, a 4096-token vocabulary, tied
   * embeddings and the architecture's own chat template. About 1.6 MB in Q8_0.
   */
  public static ModelShape tiny(Architecture architecture) {
    return new ModelShape(
        "edgeslm-tiny-" + architecture.ggufName(),
        architecture,
        2,
        256,
        4,
        architecture == Architecture.GEMMA3 ? 1 : 2,
        64,
        512,
        4096,
        2048,
        architecture == Architecture.LLAMA ? 10_000f : 1_000_000f,
        architecture == Architecture.LLAMA ? 1e-5f : 1e-6f,
        true,
        switch (architecture) {
          case LLAMA -> ChatTemplate.LLAMA3;
          case QWEN2 -> ChatTemplate.CHATML;
          case QWEN3 -> ChatTemplate.QWEN3;
          case GEMMA3 -> ChatTemplate.GEMMA;
        });
  }

  /** The command-line names {@link #preset} accepts. */
  public static final String PRESETS =
      "tiny, tiny-llama, tiny-qwen2, tiny-qwen3, tiny-gemma3, llama-3.2-1b, qwen2.5-0.5b,"
          + " qwen3-0.6b, gemma3-1b";

  /**
   * A preset by its command-line name (see {@link #PRESETS}).
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static ModelShape preset(String cliName) {
    String n = cliName.trim().toLowerCase(Locale.ROOT);
    return switch (n) {
      case "tiny" -> tiny();
      case "tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-gemma3" ->
          tiny(Architecture.parse(n.substring("tiny-".length())));
      case "llama-3.2-1b" -> llama32_1b();
      case "qwen2.5-0.5b" -> qwen25_05b();
      case "qwen3-0.6b" -> qwen3_06b();
      case "gemma3-1b" -> gemma3_1b();
      default ->
          throw new IllegalArgumentException(
              "Unknown shape '" + cliName + "'. Use one of: " + PRESETS + ".");
    };
  }

  /** Width of the query projection ({@code headCount × headDimension}). */
  public int queryWidth() {
    return headDimension * headCount;
  }

  /** Width of the key and value projections ({@code n_embd_k_gqa}). */
  public int kvWidth() {
    return headDimension * headCountKv;
  }

  /** True for architectures whose attention has q/k/v bias vectors. */
  public boolean hasQkvBias() {
    return architecture == Architecture.QWEN2;
  }

  /** True for architectures that RMS-normalise each query and key head. */
  public boolean hasQkNorm() {
    return architecture == Architecture.QWEN3 || architecture == Architecture.GEMMA3;
  }

  /** True for Gemma 3's extra norms after attention and after the feed-forward block. */
  public boolean hasPostNorms() {
    return architecture == Architecture.GEMMA3;
  }

  /** Gemma 3's sliding attention window, in tokens. */
  public static final int GEMMA3_SLIDING_WINDOW = 512;

  /** A copy with another vocabulary size (for example to shrink a benchmark's output layer). */
  public ModelShape withVocabSize(int newVocabSize) {
    return new ModelShape(
        name,
        architecture,
        blockCount,
        embeddingLength,
        headCount,
        headCountKv,
        headDimension,
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
        headDimension,
        feedForwardLength,
        vocabSize,
        contextLength,
        ropeFreqBase,
        rmsNormEpsilon,
        tiedEmbeddings,
        template);
  }
}
