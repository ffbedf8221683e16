package io.edgeslm.testkit.internal.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BlockCodecTest {

  private static ByteBuffer buffer() {
    return ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static float[] ramp() {
    float[] x = new float[32];
    for (int j = 0; j < 32; j++) {
      x[j] = j - 16;
    }
    return x;
  }

  // Expected bytes worked out by hand from ggml's quantize_row_q4_0_ref: the ramp -16..15 has its
  // largest magnitude at -16, so d = -16 / -8 = 2 (fp16 0x4000); weight j maps to
  // min(15, (int)(x/2 + 8.5)), low nibble weight j, high nibble weight j + 16.
  @Test
  void encodeQ4_0_ramp_matchesGgmlLayoutByteForByte() {
    ByteBuffer out = buffer();
    BlockCodec.encodeQ4_0(ramp(), 0, out);
    assertThat(out.position()).isEqualTo(18);
    int[] expected = {
      0x00, 0x40, 0x80, 0x91, 0x91, 0xA2, 0xA2, 0xB3, 0xB3, 0xC4, 0xC4, 0xD5, 0xD5, 0xE6, 0xE6,
      0xF7, 0xF7, 0xF8
    };
    byte[] actual = new byte[18];
    out.flip().get(actual);
    for (int i = 0; i < 18; i++) {
      assertThat(actual[i] & 0xFF).as("byte %d", i).isEqualTo(expected[i]);
    }
  }

  @Test
  void encodeQ8_0_ramp_scaleIsMaxOver127AndQuantsAreSignedBytes() {
    ByteBuffer out = buffer();
    BlockCodec.encodeQ8_0(ramp(), 0, out);
    assertThat(out.position()).isEqualTo(34);
    out.flip();
    assertThat(Float.float16ToFloat(out.getShort())).isCloseTo(16f / 127f, within(1e-4f));
    byte[] q = new byte[32];
    out.get(q);
    assertThat(q[0]).isEqualTo((byte) -127);
    assertThat(q[16]).isEqualTo((byte) 0);
    assertThat(q[31]).isEqualTo((byte) 119);
  }

  @Test
  void encodeQ8_0_halfwayValues_roundAwayFromZeroLikeCRoundf() {
    float[] x = new float[32];
    x[0] = 127f; // sets d = 1 exactly
    x[1] = 2.5f;
    x[2] = -2.5f;
    x[3] = 0.5f;
    x[4] = -0.5f;
    x[5] = 0.49999997f; // the float just below 0.5: roundf gives 0
    x[6] = -0.49999997f;
    ByteBuffer out = buffer();
    BlockCodec.encodeQ8_0(x, 0, out);
    out.flip();
    assertThat(Float.float16ToFloat(out.getShort())).isEqualTo(1f);
    byte[] q = new byte[7];
    out.get(q);
    assertThat(q).containsExactly(127, 3, -3, 1, -1, 0, 0);
  }

  @Test
  void encodeAndDecode_allZeroBlock_staysZeroWithoutNaN() {
    float[] zeros = new float[32];
    float[] back = new float[32];
    ByteBuffer out = buffer();
    BlockCodec.encodeQ4_0(zeros, 0, out);
    BlockCodec.decodeQ4_0(out.flip(), back, 0);
    for (float f : back) {
      assertThat(f == 0f).isTrue(); // -0.0 is fine: ggml's scale is max / -8
    }
    out = buffer();
    BlockCodec.encodeQ8_0(zeros, 0, out);
    BlockCodec.decodeQ8_0(out.flip(), back, 0);
    for (float f : back) {
      assertThat(f == 0f).isTrue();
    }
  }

  @Test
  void roundTrip_randomBlocks_errorStaysWithinOneQuantizationStep() {
    SplittableRandom r = new SplittableRandom(7);
    float[] x = new float[32];
    float[] back = new float[32];
    for (int trial = 0; trial < 1000; trial++) {
      float amax = 0;
      for (int j = 0; j < 32; j++) {
        x[j] = (float) (r.nextGaussian() * 0.05);
        amax = Math.max(amax, Math.abs(x[j]));
      }
      ByteBuffer q8 = buffer();
      BlockCodec.encodeQ8_0(x, 0, q8);
      BlockCodec.decodeQ8_0(q8.flip(), back, 0);
      float step8 = amax / 127f;
      for (int j = 0; j < 32; j++) {
        // half a step of rounding plus the fp16 rounding of the scale
        assertThat(Math.abs(back[j] - x[j])).isLessThanOrEqualTo(step8 * 0.5f + amax * 1e-3f);
      }
      ByteBuffer q4 = buffer();
      BlockCodec.encodeQ4_0(x, 0, q4);
      BlockCodec.decodeQ4_0(q4.flip(), back, 0);
      float step4 = amax / 8f;
      for (int j = 0; j < 32; j++) {
        // the top code 16 is clipped to 15, so the far side may be off by a whole step
        assertThat(Math.abs(back[j] - x[j])).isLessThanOrEqualTo(step4 + amax * 1e-3f);
      }
    }
  }

  private static org.assertj.core.data.Offset<Float> within(float v) {
    return org.assertj.core.data.Offset.offset(v);
  }
}
