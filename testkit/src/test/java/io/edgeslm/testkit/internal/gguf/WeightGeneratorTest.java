package io.edgeslm.testkit.internal.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WeightGeneratorTest {

  @Test
  void fill_sameSeedTensorAndRow_givesSameValues_otherTensorOrRowGivesOthers() {
    float[] a = new float[256];
    float[] b = new float[256];
    float[] c = new float[256];
    WeightGenerator.forRow(42, "blk.0.attn_q.weight", 3, 0.02f).fill(a, 0, 256);
    WeightGenerator.forRow(42, "blk.0.attn_q.weight", 3, 0.02f).fill(b, 0, 256);
    WeightGenerator.forRow(42, "blk.0.attn_k.weight", 3, 0.02f).fill(c, 0, 256);
    assertThat(a).containsExactly(b);
    assertThat(a).isNotEqualTo(c);
    WeightGenerator.forRow(42, "blk.0.attn_q.weight", 4, 0.02f).fill(c, 0, 256);
    assertThat(a).as("next row").isNotEqualTo(c);
  }

  @Test
  void fill_manyValues_haveMeanZeroAndTheRequestedDeviation() {
    int n = 1 << 20;
    float[] v = new float[n];
    WeightGenerator.forRow(1, "t", 0, 0.02f).fill(v, 0, n);
    double sum = 0;
    double sq = 0;
    for (float f : v) {
      assertThat(Float.isFinite(f)).isTrue();
      sum += f;
      sq += (double) f * f;
    }
    double mean = sum / n;
    double sd = Math.sqrt(sq / n - mean * mean);
    assertThat(mean).isBetween(-0.001, 0.001);
    assertThat(sd).isBetween(0.0195, 0.0205);
  }
}
