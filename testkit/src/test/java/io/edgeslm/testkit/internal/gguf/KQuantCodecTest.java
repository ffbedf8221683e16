package io.edgeslm.testkit.internal.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Q4_K and Q6_K against ggml's definitions: blocks built by hand from the layouts in {@code
 * ggml-common.h} decode to the values {@code dequantize_row_q4_K}/{@code dequantize_row_q6_K}
 * define, and the encoders meet the error bound of ggml's own {@code tests/test-quantize-fns.cpp}.
 */
class KQuantCodecTest {

  private static ByteBuffer le(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void half(byte[] b, int at, float v) {
    short h = Float.floatToFloat16(v);
    b[at] = (byte) h;
    b[at + 1] = (byte) (h >> 8);
  }

  // Sub-block scales 1,2,3,4,33,40,63,10 and mins 0,1,2,3,17,20,63,5 packed by hand as
  // block_q4_K stores them: bytes 0-3 hold scales 0-3 with the top two bits of scales 4-7, bytes
  // 4-7 the mins 0-3 with the top bits of mins 4-7, bytes 8-11 the low nibbles of scale and min
  // 4-7.
  private static final int[] Q4K_SCALES = {
    0x81, 0x82, 0xC3, 0x04, 0x40, 0x41, 0xC2, 0x03, 0x11, 0x48, 0xFF, 0x5A
  };

  @Test
  void decodeQ4K_handBuiltBlock_givesDTimesScaleTimesQuantMinusDminTimesMin() {
    byte[] block = new byte[KQuantCodec.Q4_K_BYTES];
    half(block, 0, 0.5f); // d
    half(block, 2, 0.25f); // dmin
    for (int i = 0; i < 12; i++) {
      block[4 + i] = (byte) Q4K_SCALES[i];
    }
    for (int i = 0; i < 128; i++) {
      block[16 + i] = (byte) 0x39; // low nibble 9 (even sub-blocks), high nibble 3 (odd ones)
    }
    float[] out = new float[256];
    KQuantCodec.decodeQ4K(le(block), out, 0);

    // 0.5 * scale * q - 0.25 * min, per sub-block of 32
    float[] expected = {4.5f, 2.75f, 13f, 5.25f, 144.25f, 55f, 267.75f, 13.75f};
    for (int i = 0; i < 256; i++) {
      assertThat(out[i]).as("weight %d", i).isEqualTo(expected[i / 32]);
    }
    byte[] sc = new byte[12];
    System.arraycopy(block, 4, sc, 0, 12);
    int[] scales = new int[8];
    int[] mins = new int[8];
    for (int j = 0; j < 8; j++) {
      scales[j] = KQuantCodec.scaleQ4K(sc, j);
      mins[j] = KQuantCodec.minQ4K(sc, j);
    }
    assertThat(scales).containsExactly(1, 2, 3, 4, 33, 40, 63, 10);
    assertThat(mins).containsExactly(0, 1, 2, 3, 17, 20, 63, 5);
  }

  @Test
  void decodeQ6K_handBuiltBlock_givesDTimesScaleTimesQuantMinus32() {
    byte[] block = new byte[KQuantCodec.Q6_K_BYTES];
    for (int i = 0; i < 128; i++) {
      block[i] = (byte) 0x21; // ql: low nibble 1, high nibble 2
    }
    for (int i = 0; i < 64; i++) {
      block[128 + i] = (byte) 0xE4; // qh: bit pairs 0, 1, 2, 3 from the bottom
    }
    for (int i = 0; i < 16; i++) {
      block[192 + i] = (byte) (i - 8); // sub-block scales -8..7
    }
    half(block, 208, 0.5f);
    float[] out = new float[256];
    KQuantCodec.decodeQ6K(le(block), out, 0);

    // Each 128-weight half reads four 32-weight quarters: q = low nibble | pair 0 (1 - 32 = -31),
    // low nibble | pair 1 (17 - 32 = -15), high nibble | pair 2 (34 - 32 = 2), high nibble | pair
    // 3 (50 - 32 = 18); weight i has the scale of sub-block i / 16.
    assertThat(out[0]).isEqualTo(0.5f * -8 * -31);
    assertThat(out[40]).isEqualTo(0.5f * -6 * -15);
    assertThat(out[200]).isEqualTo(0.5f * 4 * 2);
    assertThat(out[255]).isEqualTo(0.5f * 7 * 18);
    int[] quarter = {-31, -15, 2, 18};
    for (int i = 0; i < 256; i++) {
      assertThat(out[i]).as("weight %d", i).isEqualTo(0.5f * (i / 16 - 8) * quarter[i % 128 / 32]);
    }
  }

  // ggml's tests/test-quantize-fns.cpp: 4096 values 0.1 + 2 cos(i), total error
  // sqrt(sum of squared differences) / n below MAX_QUANTIZATION_TOTAL_ERROR = 0.002.
  @Test
  void encode_ggmlsTestData_meetsGgmlsTotalErrorBound() {
    float[] x = new float[4096];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (0.1 + 2.0f * (float) Math.cos(i));
    }
    assertThat(totalError(x, true)).isLessThan(0.002f);
    assertThat(totalError(x, false)).isLessThan(0.002f);
  }

  private static float totalError(float[] x, boolean q4) {
    int size = q4 ? KQuantCodec.Q4_K_BYTES : KQuantCodec.Q6_K_BYTES;
    float[] back = new float[x.length];
    byte[] block = new byte[size];
    for (int b = 0; b < x.length; b += 256) {
      if (q4) {
        KQuantCodec.encodeQ4K(x, b, block, 0);
        KQuantCodec.decodeQ4K(le(block), back, b);
      } else {
        KQuantCodec.encodeQ6K(x, b, block, 0);
        KQuantCodec.decodeQ6K(le(block), back, b);
      }
    }
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      double d = x[i] - back[i];
      sum += d * d;
    }
    return (float) (Math.sqrt(sum) / x.length);
  }

  @Test
  void roundTrip_gaussianWeights_q6kBeatsQ4k_andBothStayClose() {
    SplittableRandom r = new SplittableRandom(11);
    float[] x = new float[256 * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextGaussian() * 0.02);
    }
    double e4 = rms(x, true);
    double e6 = rms(x, false);
    // 4-bit affine and 6-bit symmetric quantization of N(0, 0.02): relative RMS error about 1/10
    // and 1/40 of the deviation.
    assertThat(e4).isLessThan(0.02 * 0.15);
    assertThat(e6).isLessThan(0.02 * 0.04);
    assertThat(e6).isLessThan(e4 / 2);
  }

  private static double rms(float[] x, boolean q4) {
    byte[] block = new byte[q4 ? KQuantCodec.Q4_K_BYTES : KQuantCodec.Q6_K_BYTES];
    float[] back = new float[256];
    double sum = 0;
    for (int b = 0; b < x.length; b += 256) {
      if (q4) {
        KQuantCodec.encodeQ4K(x, b, block, 0);
        KQuantCodec.decodeQ4K(le(block), back, 0);
      } else {
        KQuantCodec.encodeQ6K(x, b, block, 0);
        KQuantCodec.decodeQ6K(le(block), back, 0);
      }
      for (int i = 0; i < 256; i++) {
        double d = x[b + i] - back[i];
        sum += d * d;
      }
    }
    return Math.sqrt(sum / x.length);
  }

  @Test
  void encode_allZeroBlock_decodesToZeroWithoutNaN() {
    float[] zeros = new float[256];
    float[] back = new float[256];
    byte[] q4 = new byte[KQuantCodec.Q4_K_BYTES];
    KQuantCodec.encodeQ4K(zeros, 0, q4, 0);
    KQuantCodec.decodeQ4K(le(q4), back, 0);
    for (float f : back) {
      assertThat(f == 0f).isTrue();
    }
    byte[] q6 = new byte[KQuantCodec.Q6_K_BYTES];
    KQuantCodec.encodeQ6K(zeros, 0, q6, 0);
    assertThat(q6).containsOnly(0);
    KQuantCodec.decodeQ6K(le(q6), back, 0);
    for (float f : back) {
      assertThat(f == 0f).isTrue();
    }
  }

  @Test
  void nearestInt_roundsHalfToEvenLikeGgml() {
    assertThat(KQuantCodec.nearestInt(2.5f)).isEqualTo(2);
    assertThat(KQuantCodec.nearestInt(3.5f)).isEqualTo(4);
    assertThat(KQuantCodec.nearestInt(-2.5f)).isEqualTo(-2);
    assertThat(KQuantCodec.nearestInt(-0.6f)).isEqualTo(-1);
    assertThat(KQuantCodec.nearestInt(62.49f)).isEqualTo(62);
  }
}
