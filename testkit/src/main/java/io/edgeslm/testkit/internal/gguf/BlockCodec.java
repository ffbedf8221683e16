package io.edgeslm.testkit.internal.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes and decodes ggml's Q8_0 and Q4_0 blocks exactly as ggml's reference quantizers do ({@code
 * quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref} and their {@code dequantize_row_*}
 * counterparts in {@code ggml-quants.c}). A block holds 32 weights; its first two bytes are the
 * scale {@code d} as IEEE half precision, little endian.
 */
public final class BlockCodec {
  /** Weights per Q8_0 / Q4_0 block ({@code QK8_0}, {@code QK4_0}). */
  public static final int QK = 32;

  private BlockCodec() {}

  /**
   * Q8_0: {@code d = max|x| / 127}, {@code q[j] = round(x[j] / d)} (ties away from zero, as C's
   * {@code roundf}). Writes 34 bytes at the buffer's position, which must be little endian.
   */
  public static void encodeQ8_0(float[] x, int offset, ByteBuffer out) {
    requireLittleEndian(out);
    byte[] block = new byte[34];
    encodeQ8_0(x, offset, block, 0);
    out.put(block);
  }

  /** Q8_0 as above, into {@code out[outOffset..outOffset+34)}. */
  public static void encodeQ8_0(float[] x, int offset, byte[] out, int outOffset) {
    float amax = 0f;
    for (int j = 0; j < QK; j++) {
      amax = Math.max(amax, Math.abs(x[offset + j]));
    }
    float d = amax / 127f;
    float id = d != 0f ? 1f / d : 0f;
    putHalf(out, outOffset, d);
    for (int j = 0; j < QK; j++) {
      out[outOffset + 2 + j] = (byte) roundHalfAwayFromZero(x[offset + j] * id);
    }
  }

  /**
   * Q4_0: the value of largest magnitude {@code m} (sign kept) sets {@code d = m / -8}; each weight
   * becomes {@code min(15, (int8)(x / d + 8.5))}. Byte {@code j} holds weight {@code j} in its low
   * nibble and weight {@code j + 16} in its high nibble. Writes 18 bytes.
   */
  public static void encodeQ4_0(float[] x, int offset, ByteBuffer out) {
    requireLittleEndian(out);
    byte[] block = new byte[18];
    encodeQ4_0(x, offset, block, 0);
    out.put(block);
  }

  /** Q4_0 as above, into {@code out[outOffset..outOffset+18)}. */
  public static void encodeQ4_0(float[] x, int offset, byte[] out, int outOffset) {
    float amax = 0f;
    float max = 0f;
    for (int j = 0; j < QK; j++) {
      float v = x[offset + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    float d = max / -8f;
    float id = d != 0f ? 1f / d : 0f;
    putHalf(out, outOffset, d);
    for (int j = 0; j < QK / 2; j++) {
      float x0 = x[offset + j] * id;
      float x1 = x[offset + QK / 2 + j] * id;
      // C's (int8_t) cast truncates toward zero; the +8.5 keeps the operand non-negative.
      int xi0 = Math.min(15, (int) (x0 + 8.5f));
      int xi1 = Math.min(15, (int) (x1 + 8.5f));
      out[outOffset + 2 + j] = (byte) (xi0 | (xi1 << 4));
    }
  }

  private static void putHalf(byte[] out, int at, float value) {
    short h = Float.floatToFloat16(value);
    out[at] = (byte) h;
    out[at + 1] = (byte) (h >> 8);
  }

  /** Reads one Q8_0 block at the buffer's position into {@code out[offset..offset+32)}. */
  public static void decodeQ8_0(ByteBuffer in, float[] out, int offset) {
    requireLittleEndian(in);
    float d = Float.float16ToFloat(in.getShort());
    for (int j = 0; j < QK; j++) {
      out[offset + j] = in.get() * d;
    }
  }

  /** Reads one Q4_0 block at the buffer's position into {@code out[offset..offset+32)}. */
  public static void decodeQ4_0(ByteBuffer in, float[] out, int offset) {
    requireLittleEndian(in);
    float d = Float.float16ToFloat(in.getShort());
    for (int j = 0; j < QK / 2; j++) {
      int b = in.get() & 0xFF;
      out[offset + j] = ((b & 0x0F) - 8) * d;
      out[offset + QK / 2 + j] = ((b >>> 4) - 8) * d;
    }
  }

  private static int roundHalfAwayFromZero(float v) {
    // |v| + 0.5 is exact in double (a float has 24 significant bits), so truncating it rounds
    // halves away from zero exactly; a float sum would not be (0.49999997f + 0.5f == 1.0f).
    int t = (int) (Math.abs((double) v) + 0.5);
    int sign = Float.floatToRawIntBits(v) >> 31; // 0 or -1
    return (t ^ sign) - sign;
  }

  private static void requireLittleEndian(ByteBuffer buffer) {
    if (buffer.order() != ByteOrder.LITTLE_ENDIAN) {
      throw new IllegalArgumentException("GGUF blocks are little endian; set the buffer's order.");
    }
  }
}
