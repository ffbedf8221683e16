package io.edgeslm.testkit.internal.gguf;

/** Fixed numbers of the GGUF container (ggml-org/ggml {@code docs/gguf.md}). */
public final class Gguf {
  /** "GGUF" read as a little-endian uint32. */
  public static final int MAGIC = 0x46554747;

  /** The version this kit writes; the reader accepts 2 and 3 (same layout, 64-bit counts). */
  public static final int VERSION = 3;

  /** Default {@code general.alignment}: tensor data offsets are multiples of it. */
  public static final int DEFAULT_ALIGNMENT = 32;

  private Gguf() {}

  /** {@code value} rounded up to a multiple of {@code alignment}. */
  public static long align(long value, long alignment) {
    return (value + alignment - 1) / alignment * alignment;
  }
}
