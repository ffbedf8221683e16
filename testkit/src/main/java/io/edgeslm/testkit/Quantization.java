package io.edgeslm.testkit;

import java.util.Locale;

/**
 * How a synthetic model's matrices are encoded: one {@link GgmlType} for every matrix, or a
 * llama.cpp mixture that picks a type per tensor. Vectors (norm weights, biases) stay F32 in every
 * case, as {@code llama-quantize} leaves one-dimensional tensors alone.
 */
public enum Quantization {
  /** Every matrix F32 ({@code LLAMA_FTYPE_ALL_F32} = 0). */
  F32(GgmlType.F32, 0),
  /** Every matrix Q8_0 ({@code LLAMA_FTYPE_MOSTLY_Q8_0} = 7). */
  Q8_0(GgmlType.Q8_0, 7),
  /** Every matrix Q4_0 ({@code LLAMA_FTYPE_MOSTLY_Q4_0} = 2). */
  Q4_0(GgmlType.Q4_0, 2),
  /**
   * llama.cpp's Q4_K_M mixture ({@code LLAMA_FTYPE_MOSTLY_Q4_K_M} = 15), the file most users
   * download: Q4_K for most matrices, Q6_K for the output layer (the token embedding when it is
   * tied), and for {@code attn_v} and {@code ffn_down} in the layers {@code use_more_bits} picks
   * (the first and last eighth of the layers and every third layer between). The rules are {@code
   * llama_tensor_get_type_impl} in llama.cpp's {@code src/llama-quant.cpp}.
   */
  Q4_K_M(GgmlType.Q4_K, 15);

  private final GgmlType base;
  private final int fileType;

  Quantization(GgmlType base, int fileType) {
    this.base = base;
    this.fileType = fileType;
  }

  /** The {@code general.file_type} value ({@code enum llama_ftype} in {@code llama.h}). */
  public int fileType() {
    return fileType;
  }

  /** The type most matrices use. */
  public GgmlType baseType() {
    return base;
  }

  /** The single-type quantization for {@code type}. */
  public static Quantization of(GgmlType type) {
    return switch (type) {
      case F32 -> F32;
      case Q8_0 -> Q8_0;
      case Q4_0 -> Q4_0;
      case Q4_K, Q6_K ->
          throw new IllegalArgumentException(
              "A model is not written in "
                  + type
                  + " alone; use Quantization.Q4_K_M, the mixture llama.cpp writes.");
    };
  }

  /**
   * Parses a command-line name: {@code f32}, {@code q8_0}, {@code q4_0}, {@code q4_k_m}
   * (case-insensitive).
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static Quantization parse(String name) {
    for (Quantization q : values()) {
      if (q.name().equalsIgnoreCase(name.trim())) {
        return q;
      }
    }
    throw new IllegalArgumentException(
        "Unknown quantization '" + name + "'. Use one of: f32, q8_0, q4_0, q4_k_m.");
  }

  /** The lower-case name used on command lines and in file names. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The kinds of matrix the Q4_K_M rules tell apart. */
  public enum Role {
    TOKEN_EMBEDDING,
    OUTPUT,
    ATTN_V,
    FFN_DOWN,
    OTHER
  }

  /**
   * The type of one matrix.
   *
   * @param role what the matrix is
   * @param layer its layer (ignored for the embedding and output)
   * @param layers the model's layer count
   * @param tiedEmbeddings true when the token embedding doubles as the output layer
   */
  public GgmlType typeFor(Role role, int layer, int layers, boolean tiedEmbeddings) {
    if (this != Q4_K_M) {
      return base;
    }
    return switch (role) {
      case OUTPUT -> GgmlType.Q6_K;
      case TOKEN_EMBEDDING -> tiedEmbeddings ? GgmlType.Q6_K : GgmlType.Q4_K;
      case ATTN_V, FFN_DOWN -> useMoreBits(layer, layers) ? GgmlType.Q6_K : GgmlType.Q4_K;
      case OTHER -> GgmlType.Q4_K;
    };
  }

  /** llama.cpp's {@code use_more_bits}: first and last eighth, and every third layer between. */
  static boolean useMoreBits(int layer, int layers) {
    return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
  }
}
