package io.edgeslm.testkit;

import java.util.Locale;

/**
 * The ggml tensor encodings the synthetic writer produces, with their on-disk ids and block layouts
 * as defined in ggml ({@code ggml.h} {@code enum ggml_type}, {@code ggml-common.h} {@code
 * block_q8_0}/{@code block_q4_0}).
 */
public enum GgmlType {
  /** 32-bit IEEE float, one value per "block". */
  F32(0, 1, 4, 0),
  /** 32 weights per block: an fp16 scale then 16 bytes of 4-bit quants (18 bytes). */
  Q4_0(2, 32, 18, 2),
  /** 32 weights per block: an fp16 scale then 32 signed 8-bit quants (34 bytes). */
  Q8_0(8, 32, 34, 7);

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
   * The {@code general.file_type} value ({@code enum llama_ftype}) of a model whose matrices use
   * this type: ALL_F32 = 0, MOSTLY_Q4_0 = 2, MOSTLY_Q8_0 = 7.
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
   * Parses a command-line name: {@code f32}, {@code q8_0}, {@code q4_0} (case-insensitive).
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
        "Unknown tensor type '" + name + "'. Use one of: f32, q8_0, q4_0.");
  }

  /** The lower-case name used on command lines and in file names. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
