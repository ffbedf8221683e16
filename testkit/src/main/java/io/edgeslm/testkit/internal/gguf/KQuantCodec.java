package io.edgeslm.testkit.internal.gguf;

import java.nio.ByteBuffer;

/**
 * Encodes and decodes ggml's Q4_K and Q6_K super-blocks of 256 weights as ggml's reference
 * quantizers do ({@code quantize_row_q4_K_ref}, {@code quantize_row_q6_K_ref} with their helpers
 * {@code make_qkx2_quants}, {@code make_qx_quants} and {@code nearest_int}, and {@code
 * dequantize_row_q4_K}/{@code dequantize_row_q6_K} in {@code ggml-quants.c}; layouts {@code
 * block_q4_K}/{@code block_q6_K} in {@code ggml-common.h}). These are the functions {@code
 * llama-quantize} runs when it has no importance matrix.
 *
 * <p>Q4_K (144 bytes): fp16 {@code d}, fp16 {@code dmin}, 12 bytes packing eight 6-bit sub-block
 * scales and eight 6-bit mins, then 128 bytes of 4-bit quants; weight = {@code d·sc·q − dmin·m}.
 * Q6_K (210 bytes): 128 bytes of low nibbles, 64 bytes of high bit pairs, sixteen int8 sub-block
 * scales, fp16 {@code d}; weight = {@code d·sc·(q − 32)}.
 */
public final class KQuantCodec {
  /** Weights per super-block ({@code QK_K}). */
  public static final int QK_K = 256;

  /** Bytes of a Q4_K block. */
  public static final int Q4_K_BYTES = 144;

  /** Bytes of a Q6_K block. */
  public static final int Q6_K_BYTES = 210;

  private static final float GROUP_MAX_EPS = 1e-15f;

  private KQuantCodec() {}

  /** Q4_K of {@code x[offset..offset+256)} into {@code out[at..at+144)}. */
  public static void encodeQ4K(float[] x, int offset, byte[] out, int at) {
    int[] levels = new int[QK_K];
    int[] aux = new int[32];
    float[] weights = new float[32];
    float[] mins = new float[8];
    float[] scales = new float[8];
    float maxScale = 0;
    float maxMin = 0;
    for (int j = 0; j < 8; j++) {
      int base = offset + 32 * j;
      float sumX2 = 0;
      for (int l = 0; l < 32; l++) {
        sumX2 += x[base + l] * x[base + l];
      }
      float avX = (float) Math.sqrt(sumX2 / 32);
      for (int l = 0; l < 32; l++) {
        weights[l] = avX + Math.abs(x[base + l]);
      }
      float[] min = new float[1];
      scales[j] = makeQkx2Quants(x, base, weights, levels, 32 * j, min, aux);
      mins[j] = min[0];
      maxScale = Math.max(maxScale, scales[j]);
      maxMin = Math.max(maxMin, mins[j]);
    }
    float invScale = maxScale > 0 ? 63f / maxScale : 0f;
    float invMin = maxMin > 0 ? 63f / maxMin : 0f;
    byte[] sc = new byte[12];
    for (int j = 0; j < 8; j++) {
      int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
      int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
      if (j < 4) {
        sc[j] = (byte) ls;
        sc[j + 4] = (byte) lm;
      } else {
        sc[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
        sc[j - 4] |= (byte) ((ls >> 4) << 6);
        sc[j] |= (byte) ((lm >> 4) << 6);
      }
    }
    short dh = Float.floatToFloat16(maxScale / 63f);
    short mh = Float.floatToFloat16(maxMin / 63f);
    float d = Float.float16ToFloat(dh);
    float dmin = Float.float16ToFloat(mh);
    for (int j = 0; j < 8; j++) {
      float dj = d * scaleQ4K(sc, j);
      if (dj == 0f) {
        continue;
      }
      float dm = dmin * minQ4K(sc, j);
      for (int i = 0; i < 32; i++) {
        int l = nearestInt((x[offset + 32 * j + i] + dm) / dj);
        levels[32 * j + i] = Math.clamp(l, 0, 15);
      }
    }
    putShort(out, at, dh);
    putShort(out, at + 2, mh);
    System.arraycopy(sc, 0, out, at + 4, 12);
    int q = at + 16;
    for (int j = 0; j < QK_K; j += 64) {
      for (int l = 0; l < 32; l++) {
        out[q + l] = (byte) (levels[j + l] | (levels[j + l + 32] << 4));
      }
      q += 32;
    }
  }

  /** Reads one Q4_K block at the buffer's position into {@code out[offset..offset+256)}. */
  public static void decodeQ4K(ByteBuffer in, float[] out, int offset) {
    float d = Float.float16ToFloat(in.getShort());
    float min = Float.float16ToFloat(in.getShort());
    byte[] sc = new byte[12];
    in.get(sc);
    byte[] qs = new byte[128];
    in.get(qs);
    int y = offset;
    int q = 0;
    for (int j = 0, is = 0; j < QK_K; j += 64, is += 2) {
      float d1 = d * scaleQ4K(sc, is);
      float m1 = min * minQ4K(sc, is);
      float d2 = d * scaleQ4K(sc, is + 1);
      float m2 = min * minQ4K(sc, is + 1);
      for (int l = 0; l < 32; l++) {
        out[y++] = d1 * (qs[q + l] & 0xF) - m1;
      }
      for (int l = 0; l < 32; l++) {
        out[y++] = d2 * ((qs[q + l] & 0xFF) >>> 4) - m2;
      }
      q += 32;
    }
  }

  /** The 6-bit scale of sub-block {@code j} ({@code get_scale_min_k4}). */
  static int scaleQ4K(byte[] sc, int j) {
    return j < 4 ? sc[j] & 63 : (sc[j + 4] & 0xF) | (((sc[j - 4] & 0xFF) >> 6) << 4);
  }

  /** The 6-bit min of sub-block {@code j} ({@code get_scale_min_k4}). */
  static int minQ4K(byte[] sc, int j) {
    return j < 4 ? sc[j + 4] & 63 : ((sc[j + 4] & 0xFF) >> 4) | (((sc[j] & 0xFF) >> 6) << 4);
  }

  /** Q6_K of {@code x[offset..offset+256)} into {@code out[at..at+210)}. */
  public static void encodeQ6K(float[] x, int offset, byte[] out, int at) {
    int[] levels = new int[QK_K];
    float[] scales = new float[16];
    float maxScale = 0;
    float maxAbsScale = 0;
    for (int ib = 0; ib < 16; ib++) {
      float scale = makeQxQuants(x, offset + 16 * ib, levels, 16 * ib);
      scales[ib] = scale;
      if (Math.abs(scale) > maxAbsScale) {
        maxAbsScale = Math.abs(scale);
        maxScale = scale;
      }
    }
    java.util.Arrays.fill(out, at, at + Q6_K_BYTES, (byte) 0);
    if (maxAbsScale < GROUP_MAX_EPS) {
      return; // all zero, d = 0
    }
    float iscale = -128f / maxScale;
    short dh = Float.floatToFloat16(1 / iscale);
    float d = Float.float16ToFloat(dh);
    byte[] sc = new byte[16];
    for (int ib = 0; ib < 16; ib++) {
      sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
    }
    for (int j = 0; j < 16; j++) {
      float dj = d * sc[j];
      if (dj == 0f) {
        continue;
      }
      for (int i = 0; i < 16; i++) {
        int l = nearestInt(x[offset + 16 * j + i] / dj);
        levels[16 * j + i] = Math.clamp(l, -32, 31) + 32;
      }
    }
    int ql = at;
    int qh = at + 128;
    for (int j = 0; j < QK_K; j += 128) {
      for (int l = 0; l < 32; l++) {
        int q1 = levels[j + l] & 0xF;
        int q2 = levels[j + l + 32] & 0xF;
        int q3 = levels[j + l + 64] & 0xF;
        int q4 = levels[j + l + 96] & 0xF;
        out[ql + l] = (byte) (q1 | (q3 << 4));
        out[ql + l + 32] = (byte) (q2 | (q4 << 4));
        out[qh + l] =
            (byte)
                ((levels[j + l] >> 4)
                    | ((levels[j + l + 32] >> 4) << 2)
                    | ((levels[j + l + 64] >> 4) << 4)
                    | ((levels[j + l + 96] >> 4) << 6));
      }
      ql += 64;
      qh += 32;
    }
    System.arraycopy(sc, 0, out, at + 192, 16);
    putShort(out, at + 208, dh);
  }

  /** Reads one Q6_K block at the buffer's position into {@code out[offset..offset+256)}. */
  public static void decodeQ6K(ByteBuffer in, float[] out, int offset) {
    byte[] ql = new byte[128];
    byte[] qh = new byte[64];
    byte[] sc = new byte[16];
    in.get(ql).get(qh).get(sc);
    float d = Float.float16ToFloat(in.getShort());
    for (int n = 0; n < 2; n++) {
      int y = offset + 128 * n;
      int l0 = 64 * n;
      int h0 = 32 * n;
      int s0 = 8 * n;
      for (int l = 0; l < 32; l++) {
        int is = l / 16;
        int h = qh[h0 + l] & 0xFF;
        int a = ql[l0 + l] & 0xFF;
        int b = ql[l0 + l + 32] & 0xFF;
        int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
        int q2 = ((b & 0xF) | (((h >> 2) & 3) << 4)) - 32;
        int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
        int q4 = ((b >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[y + l] = d * sc[s0 + is] * q1;
        out[y + l + 32] = d * sc[s0 + is + 2] * q2;
        out[y + l + 64] = d * sc[s0 + is + 4] * q3;
        out[y + l + 96] = d * sc[s0 + is + 6] * q4;
      }
    }
  }

  /**
   * ggml's {@code nearest_int}: adding 1.5·2²³ leaves the rounded integer (ties to even) in the low
   * mantissa bits. Valid for |v| ≤ 4194303, which every caller here respects.
   */
  static int nearestInt(float v) {
    float val = v + 12582912f;
    return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
  }

  /**
   * {@code make_qkx2_quants(32, 15, x, weights, L, &the_min, Laux, -1, 0.1, 20, false)}: an affine
   * 4-bit fit of 32 weights (scale and a non-positive minimum) minimising the weighted squared
   * error over 21 candidate scales. Returns the scale; {@code theMin[0]} receives minus the
   * minimum.
   */
  private static float makeQkx2Quants(
      float[] x, int xo, float[] weights, int[] levels, int lo, float[] theMin, int[] aux) {
    final int n = 32;
    final int nmax = 15;
    final float rmin = -1f;
    final float rdelta = 0.1f;
    final int nstep = 20;
    float min = x[xo];
    float max = x[xo];
    float sumW = weights[0];
    float sumX = sumW * x[xo];
    for (int i = 1; i < n; i++) {
      if (x[xo + i] < min) {
        min = x[xo + i];
      }
      if (x[xo + i] > max) {
        max = x[xo + i];
      }
      float w = weights[i];
      sumW += w;
      sumX += w * x[xo + i];
    }
    if (min > 0) {
      min = 0;
    }
    if (max == min) {
      for (int i = 0; i < n; i++) {
        levels[lo + i] = 0;
      }
      theMin[0] = -min;
      return 0f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float bestError = 0;
    for (int i = 0; i < n; i++) {
      int l = nearestInt(iscale * (x[xo + i] - min));
      levels[lo + i] = Math.clamp(l, 0, nmax);
      float diff = scale * levels[lo + i] + min - x[xo + i];
      bestError += weights[i] * (diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
      iscale = (rmin + rdelta * is + nmax) / (max - min);
      float sumL = 0;
      float sumL2 = 0;
      float sumXl = 0;
      for (int i = 0; i < n; i++) {
        int l = Math.clamp(nearestInt(iscale * (x[xo + i] - min)), 0, nmax);
        aux[i] = l;
        float w = weights[i];
        sumL += w * l;
        sumL2 += w * l * l;
        sumXl += w * l * x[xo + i];
      }
      float det = sumW * sumL2 - sumL * sumL;
      if (det > 0) {
        float thisScale = (sumW * sumXl - sumX * sumL) / det;
        float thisMin = (sumL2 * sumX - sumL * sumXl) / det;
        if (thisMin > 0) {
          thisMin = 0;
          thisScale = sumXl / sumL2;
        }
        float curError = 0;
        for (int i = 0; i < n; i++) {
          float diff = thisScale * aux[i] + thisMin - x[xo + i];
          curError += weights[i] * (diff * diff);
        }
        if (curError < bestError) {
          System.arraycopy(aux, 0, levels, lo, n);
          bestError = curError;
          scale = thisScale;
          min = thisMin;
        }
      }
    }
    theMin[0] = -min;
    return scale;
  }

  /**
   * {@code make_qx_quants(16, 32, x, L, 1, NULL)}: a symmetric 6-bit fit of 16 weights, weighted by
   * x², trying 19 scales around {@code -32 / max}. Levels are stored offset by 32.
   */
  private static float makeQxQuants(float[] x, int xo, int[] levels, int lo) {
    final int n = 16;
    final int nmax = 32;
    float max = 0;
    float amax = 0;
    for (int i = 0; i < n; i++) {
      float ax = Math.abs(x[xo + i]);
      if (ax > amax) {
        amax = ax;
        max = x[xo + i];
      }
    }
    if (amax < GROUP_MAX_EPS) {
      for (int i = 0; i < n; i++) {
        levels[lo + i] = 0;
      }
      return 0f;
    }
    float iscale = -nmax / max;
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; i++) {
      int l = Math.clamp(nearestInt(iscale * x[xo + i]), -nmax, nmax - 1);
      levels[lo + i] = l + nmax;
      float w = x[xo + i] * x[xo + i];
      sumlx += w * x[xo + i] * l;
      suml2 += w * l * l;
    }
    float scale = suml2 != 0 ? sumlx / suml2 : 0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
      if (is == 0) {
        continue;
      }
      iscale = -(nmax + 0.1f * is) / max;
      sumlx = 0;
      suml2 = 0;
      for (int i = 0; i < n; i++) {
        int l = Math.clamp(nearestInt(iscale * x[xo + i]), -nmax, nmax - 1);
        float w = x[xo + i] * x[xo + i];
        sumlx += w * x[xo + i] * l;
        suml2 += w * l * l;
      }
      if (suml2 > 0 && sumlx * sumlx > best * suml2) {
        for (int i = 0; i < n; i++) {
          levels[lo + i] = nmax + Math.clamp(nearestInt(iscale * x[xo + i]), -nmax, nmax - 1);
        }
        scale = sumlx / suml2;
        best = scale * sumlx;
      }
    }
    return scale;
  }

  private static void putShort(byte[] out, int at, short h) {
    out[at] = (byte) h;
    out[at + 1] = (byte) (h >> 8);
  }
}
