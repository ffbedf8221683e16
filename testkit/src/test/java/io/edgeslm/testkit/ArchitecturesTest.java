package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.testkit.ModelShape.Architecture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every architecture in every quantization, written and read back with the kit's GGUF reader. */
class ArchitecturesTest {
  @TempDir Path dir;

  static Stream<Arguments> everyArchitectureAndQuantization() {
    List<Arguments> out = new ArrayList<>();
    for (Architecture a : Architecture.values()) {
      for (Quantization q : Quantization.values()) {
        out.add(Arguments.of(a, q));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyArchitectureAndQuantization")
  void write_tinyShape_readsBackWithTheArchitecturesTensorsTypesAndSmallWeights(
      Architecture arch, Quantization q) throws Exception {
    ModelShape shape = ModelShape.tiny(arch);
    SyntheticModel model = SyntheticModel.of(shape, q, 7);
    Path file = model.write(dir.resolve(model.suggestedFileName()));

    GgufFile gguf = GgufReader.read(file);
    String a = arch.ggufName();
    assertThat(gguf.requireString("general.architecture")).isEqualTo(a);
    assertThat(gguf.requireLong("general.file_type")).isEqualTo(q.fileType());
    assertThat(gguf.requireLong(a + ".embedding_length")).isEqualTo(256);
    assertThat(gguf.requireLong(a + ".rope.dimension_count")).isEqualTo(64);
    assertThat(gguf.dataOffset() + model.tensorDataBytes()).isEqualTo(Files.size(file));

    int perLayer =
        switch (arch) {
          case LLAMA -> 9;
          case QWEN2 -> 12; // + q/k/v biases
          case QWEN3 -> 11; // + q/k norms
          case GEMMA3 -> 13; // + q/k norms, post-attention and post-feed-forward norms
        };
    assertThat(gguf.tensors()).hasSize(2 * perLayer + 2);
    if (shape.hasQkNorm()) {
      assertThat(gguf.requireLong(a + ".attention.key_length")).isEqualTo(64);
      assertThat(gguf.tensor("blk.1.attn_q_norm.weight").orElseThrow().dims()).containsExactly(64);
      assertThat(gguf.tensor("blk.1.attn_k_norm.weight").orElseThrow().dims()).containsExactly(64);
      float[] norm = GgufReader.readRow(file, gguf.tensor("blk.0.attn_q_norm.weight").get(), 0);
      assertThat(norm).containsOnly(1f);
    } else {
      assertThat(gguf.tensor("blk.0.attn_q_norm.weight")).isEmpty();
    }
    if (arch == Architecture.GEMMA3) {
      assertThat(gguf.requireLong("gemma3.attention.sliding_window")).isEqualTo(512);
      assertThat(gguf.tensor("blk.0.post_attention_norm.weight")).isPresent();
      assertThat(gguf.tensor("blk.0.post_ffw_norm.weight")).isPresent();
      assertThat(gguf.requireLong("gemma3.attention.head_count_kv")).isEqualTo(1);
    }

    GgmlType matrix = q == Quantization.Q4_K_M ? GgmlType.Q4_K : q.baseType();
    GgmlType more = q == Quantization.Q4_K_M ? GgmlType.Q6_K : q.baseType();
    // Two layers: use_more_bits picks layer 1 only (the last eighth), and the tied embedding
    // takes the output layer's Q6_K.
    assertThat(type(gguf, "token_embd.weight")).isEqualTo(more);
    assertThat(type(gguf, "blk.0.attn_v.weight")).isEqualTo(matrix);
    assertThat(type(gguf, "blk.1.attn_v.weight")).isEqualTo(more);
    assertThat(type(gguf, "blk.0.ffn_down.weight")).isEqualTo(matrix);
    assertThat(type(gguf, "blk.1.ffn_down.weight")).isEqualTo(more);
    assertThat(type(gguf, "blk.0.attn_q.weight")).isEqualTo(matrix);
    assertThat(type(gguf, "blk.1.ffn_up.weight")).isEqualTo(matrix);
    assertThat(type(gguf, "output_norm.weight")).isEqualTo(GgmlType.F32);

    for (String name : List.of("blk.0.ffn_gate.weight", "blk.1.ffn_down.weight")) {
      GgufTensorInfo t = gguf.tensor(name).orElseThrow();
      double sq = 0;
      long n = 0;
      for (long r = 0; r < t.rows(); r++) {
        for (float f : GgufReader.readRow(file, t, r)) {
          assertThat(Float.isFinite(f)).isTrue();
          sq += (double) f * f;
          n++;
        }
      }
      assertThat(Math.sqrt(sq / n)).as(name).isBetween(0.017, 0.023);
    }
  }

  private static GgmlType type(GgufFile gguf, String name) {
    return gguf.tensor(name).orElseThrow().type();
  }

  @Test
  void qwen3Preset_hasTheWideHeadsOfQwen3_06b() {
    ModelShape s = ModelShape.preset("qwen3-0.6b");
    assertThat(s.architecture()).isEqualTo(Architecture.QWEN3);
    assertThat(List.of(s.blockCount(), s.embeddingLength(), s.headCount(), s.headCountKv()))
        .containsExactly(28, 1024, 16, 8);
    assertThat(List.of(s.headDimension(), s.queryWidth(), s.feedForwardLength(), s.vocabSize()))
        .containsExactly(128, 2048, 3072, 151_936);
    assertThat(s.chatTemplate()).isEqualTo(ChatTemplate.QWEN3);
    // 0.6e9 weights: Q4_K_M is about 4.9 bits per weight with the Q6_K embedding
    long bytes = SyntheticModel.of(s, Quantization.Q4_K_M, 1).tensorDataBytes();
    assertThat(bytes).isBetween(380_000_000L, 420_000_000L);
  }

  @Test
  void gemma3Preset_hasGemma3_1bShape_andNoQ4KmForm() {
    ModelShape s = ModelShape.preset("gemma3-1b");
    assertThat(List.of(s.blockCount(), s.embeddingLength(), s.headCount(), s.headCountKv()))
        .containsExactly(26, 1152, 4, 1);
    assertThat(List.of(s.headDimension(), s.feedForwardLength(), s.vocabSize()))
        .containsExactly(256, 6912, 262_144);
    assertThatThrownBy(() -> SyntheticModel.of(s, Quantization.Q4_K_M, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Shape 'synthetic-gemma3-1b' cannot be written in Q6_K: tensor token_embd.weight has"
                + " rows of 1152 weights, not a multiple of the 256-weight block. Choose a shape"
                + " whose widths are multiples of 256 (for example tiny-gemma3) or another"
                + " quantization.");
  }

  @Test
  void llama32_1bInQ4KM_isAboutTheSizeOfTheReleasedFile() {
    // Released Llama-3.2-1B Q4_K_M files are about 808 MB; tied embeddings in Q6_K are 216 MB.
    long bytes =
        SyntheticModel.of(ModelShape.llama32_1b(), Quantization.Q4_K_M, 1).tensorDataBytes();
    assertThat(bytes).isBetween(780_000_000L, 820_000_000L);
  }

  @Test
  void q4km_layersGivenMoreBits_followLlamaCppsUseMoreBits() {
    // 16 layers: the first two (< 16/8), the last two (>= 14) and (i - 2) % 3 == 2 between.
    List<Integer> more = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      if (Quantization.Q4_K_M.typeFor(Quantization.Role.ATTN_V, i, 16, true) == GgmlType.Q6_K) {
        more.add(i);
      }
    }
    assertThat(more).containsExactly(0, 1, 4, 7, 10, 13, 14, 15);
    assertThat(Quantization.Q4_K_M.typeFor(Quantization.Role.TOKEN_EMBEDDING, -1, 16, false))
        .isEqualTo(GgmlType.Q4_K);
    assertThat(Quantization.Q4_K_M.typeFor(Quantization.Role.OUTPUT, -1, 16, false))
        .isEqualTo(GgmlType.Q6_K);
  }

  @Test
  void tinyLlamaShape_inQ4KM_isRefusedNamingTheRowAndTheWayOut() {
    assertThatThrownBy(() -> SyntheticModel.of(ModelShape.tiny(), Quantization.Q4_K_M, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "Shape 'edgeslm-tiny' cannot be written in Q6_K: tensor token_embd.weight has rows of"
                + " 128 weights");
  }

  @Test
  void kQuantTypeAlone_isRefusedPointingAtTheMixture() {
    assertThatThrownBy(
            () -> SyntheticModel.of(ModelShape.tiny(Architecture.QWEN3), GgmlType.Q4_K, 1))
        .hasMessage(
            "A model is not written in Q4_K alone; use Quantization.Q4_K_M, the mixture llama.cpp"
                + " writes.");
  }
}
