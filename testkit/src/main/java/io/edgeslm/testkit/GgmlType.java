package io.edgeslm.testkit;

import java.util.Locale;

/**
 * The ggml tensor encodings the synthetic writer produces, with their on-disk ids and block layouts
 * as defined in ggml ({@code ggml.h} {@code enum ggml_type}, {@code ggml-common.h} {@code
 * block_q8_0}, {@code block_q4_0}, {@code block_q4_K}, {@code block_q6_K}). A model mixes them as
 * its {@link Quantization} says.
 */
public enum GgmlType {
  /** 32-bit IEEE float, one value per "block". */
  F32(0, 1, 4, 0),
  /** 32 weights per block: an fp16 scale then 16 bytes of 4-bit quants (18 bytes). */
  Q4_0(2, 32, 18, 2),
  /** 32 weights per block: an fp16 scale then 32 signed 8-bit quants (34 bytes). */
  Q8_0(8, 32, 34, 7),
  /**
   * K-quant super-block of 256 weights in 8 sub-blocks of 32: fp16 {@code d} and {@code dmin}, 12
   * bytes of 6-bit sub-block scales and mins, 128 bytes of 4-bit quants (144 bytes).
   */
  Q4_K(12, 256, 144, 14),
  /**
   * K-quant super-block of 256 weights in 16 sub-blocks of 16: 128 bytes of low 4 bits, 64 bytes of
   * high 2 bits, 16 signed 8-bit sub-block scales, an fp16 {@code d} (210 bytes).
   */
  Q6_K(14, 256, 210, 18);

  private final int id;
  private final int blockSize;
  private final int bytesPerBlock;
  private final int fileType;

  GgmlType(int id, int blockSize, int bytesPerBlock, int fileType) {
    this.id = id;
    this.blockSize = blockSize;
    this.bytesPerBlock = bytesPerBlock;
    this.fileType = fileType;
  }

  /** The {@code ggml_type} number stored in a GGUF tensor info. */
  public int id() {
    return id;
  }

  /** Weights per block; a row length must be a multiple of it. */
  public int blockSize() {
    return blockSize;
  }

  /** Bytes one block occupies on disk. */
  public int bytesPerBlock() {
    return bytesPerBlock;
  }

  /**
   * The {@code general.file_type} value ({@code enum llama_ftype} in {@code llama.h}) of a model
   * whose matrices all use this type: ALL_F32 = 0, MOSTLY_Q4_0 = 2, MOSTLY_Q8_0 = 7, MOSTLY_Q4_K_S
   * = 14, MOSTLY_Q6_K = 18.
   */
  public int fileType() {
    return fileType;
  }

  /**
   * Bytes a row of {@code elements} weights occupies.
   *
   * @throws IllegalArgumentException if {@code elements} is not a positive multiple of {@link
   *     #blockSize()}
   */
  public long rowBytes(long elements) {
    if (elements <= 0 || elements % blockSize != 0) {
      throw new IllegalArgumentException(
          "A "
              + this
              + " row needs a positive multiple of "
              + blockSize
              + " weights, got "
              + elements
              + ". Choose dimensions divisible by "
              + blockSize
              + ".");
    }
    return elements / blockSize * bytesPerBlock;
  }

  /** The type with ggml id {@code id}, or {@code null} if the kit does not know it. */
  public static GgmlType byId(int id) {
    for (GgmlType t : values()) {
      if (t.id == id) {
        return t;
      }
    }
    return null;
  }

  /**
   * Parses a command-line name: {@code f32}, {@code q8_0}, {@code q4_0}, {@code q4_k}, {@code q6_k}
   * (case-insensitive).
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static GgmlType parse(String name) {
    for (GgmlType t : values()) {
      if (t.name().equalsIgnoreCase(name.trim())) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "Unknown tensor type '" + name + "'. Use one of: f32, q8_0, q4_0, q4_k, q6_k.");
  }

  /** The lower-case name used on command lines and in file names. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
