package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.testkit.internal.vocab.SyntheticVocabulary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SyntheticModelTest {
  @TempDir Path dir;

  /** A qwen2 shape small enough for a unit test, with an untied output layer. */
  static ModelShape tinyQwen() {
    return new ModelShape(
        "tiny-qwen",
        ModelShape.Architecture.QWEN2,
        2,
        96,
        6,
        2,
        192,
        2048,
        1024,
        1_000_000f,
        1e-6f,
        false,
        ChatTemplate.CHATML);
  }

  @ParameterizedTest
  @EnumSource(
      value = Quantization.class,
      names = {"F32", "Q8_0", "Q4_0"})
  void write_tinyShape_readerSeesSpecMetadataAndAlignedTensorsFillingTheFile(Quantization q)
      throws Exception {
    GgmlType type = q.baseType();
    ModelShape shape = ModelShape.tiny();
    SyntheticModel model = SyntheticModel.of(shape, q, 42);
    Path file = model.write(dir.resolve(model.suggestedFileName()));

    GgufFile gguf = GgufReader.read(file);
    assertThat(gguf.version()).isEqualTo(3);
    assertThat(gguf.alignment()).isEqualTo(32);
    assertThat(gguf.metadata().keySet().iterator().next()).isEqualTo("general.architecture");
    assertThat(gguf.requireString("general.architecture")).isEqualTo("llama");
    assertThat(gguf.requireLong("general.file_type")).isEqualTo(q.fileType());
    assertThat(gguf.requireLong("llama.block_count")).isEqualTo(2);
    assertThat(gguf.requireLong("llama.embedding_length")).isEqualTo(128);
    assertThat(gguf.requireLong("llama.attention.head_count")).isEqualTo(4);
    assertThat(gguf.requireLong("llama.attention.head_count_kv")).isEqualTo(2);
    assertThat(gguf.requireLong("llama.feed_forward_length")).isEqualTo(256);
    assertThat(gguf.requireLong("llama.rope.dimension_count")).isEqualTo(32);
    assertThat(gguf.require("llama.rope.freq_base")).isEqualTo(10_000f);
    assertThat(gguf.require("llama.attention.layer_norm_rms_epsilon")).isEqualTo(1e-5f);
    assertThat(gguf.requireString("tokenizer.ggml.model")).isEqualTo("llama");
    assertThat((List<?>) gguf.require("tokenizer.ggml.tokens")).hasSize(shape.vocabSize());
    assertThat((List<?>) gguf.require("tokenizer.ggml.scores")).hasSize(shape.vocabSize());
    assertThat((List<?>) gguf.require("tokenizer.ggml.token_type")).hasSize(shape.vocabSize());
    assertThat(gguf.requireString("tokenizer.chat_template")).contains("<|start_header_id|>");

    // 2 blocks x 9 tensors + token_embd + output_norm; tied embeddings: no output.weight
    assertThat(gguf.tensors()).hasSize(20);
    assertThat(gguf.tensor("output.weight")).isEmpty();
    GgufTensorInfo embd = gguf.tensor("token_embd.weight").orElseThrow();
    assertThat(embd.dims()).containsExactly(128, 4096);
    assertThat(embd.type()).isEqualTo(type);
    GgufTensorInfo down = gguf.tensor("blk.1.ffn_down.weight").orElseThrow();
    assertThat(down.dims()).containsExactly(256, 128);
    assertThat(gguf.tensor("blk.0.attn_k.weight").orElseThrow().dims()).containsExactly(128, 64);
    assertThat(gguf.tensor("blk.0.attn_norm.weight").orElseThrow().type()).isEqualTo(GgmlType.F32);
    for (GgufTensorInfo t : gguf.tensors()) {
      assertThat(t.fileOffset() % 32).as(t.name()).isZero();
    }
    assertThat(gguf.dataOffset() + model.tensorDataBytes()).isEqualTo(Files.size(file));
  }

  @ParameterizedTest
  @EnumSource(
      value = Quantization.class,
      names = {"F32", "Q8_0", "Q4_0"})
  void write_weights_decodeToSmallFiniteGaussianValuesAndNormsToOnes(Quantization q)
      throws Exception {
    Path file = SyntheticModel.of(ModelShape.tiny(), q, 3).write(dir.resolve("m.gguf"));
    GgufFile gguf = GgufReader.read(file);
    float[] norm = GgufReader.readRow(file, gguf.tensor("output_norm.weight").orElseThrow(), 0);
    assertThat(norm).hasSize(128).containsOnly(1f);
    GgufTensorInfo up = gguf.tensor("blk.0.ffn_up.weight").orElseThrow();
    double sq = 0;
    int n = 0;
    for (long r = 0; r < up.rows(); r++) {
      for (float f : GgufReader.readRow(file, up, r)) {
        assertThat(Float.isFinite(f)).isTrue();
        sq += (double) f * f;
        n++;
      }
    }
    assertThat(Math.sqrt(sq / n)).isBetween(0.017, 0.023);
  }

  @Test
  void write_sameSeedTwice_givesIdenticalBytes_otherSeedDiffers() throws Exception {
    Path a = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q4_0, 9).write(dir.resolve("a.gguf"));
    Path b = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q4_0, 9).write(dir.resolve("b.gguf"));
    Path c = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q4_0, 10).write(dir.resolve("c.gguf"));
    assertThat(Files.mismatch(a, b)).isEqualTo(-1);
    assertThat(Files.mismatch(a, c)).isNotEqualTo(-1);
  }

  @Test
  void write_qwen2Shape_addsQkvBiasesAndUntiedOutput() throws Exception {
    Path file = SyntheticModel.of(tinyQwen(), GgmlType.Q8_0, 1).write(dir.resolve("q.gguf"));
    GgufFile gguf = GgufReader.read(file);
    assertThat(gguf.requireString("general.architecture")).isEqualTo("qwen2");
    assertThat(gguf.requireLong("qwen2.attention.head_count_kv")).isEqualTo(2);
    assertThat(gguf.tensor("blk.0.attn_q.bias").orElseThrow().dims()).containsExactly(96);
    assertThat(gguf.tensor("blk.1.attn_k.bias").orElseThrow().dims()).containsExactly(32);
    assertThat(gguf.tensor("blk.1.attn_v.bias").orElseThrow().type()).isEqualTo(GgmlType.F32);
    assertThat(gguf.tensor("output.weight").orElseThrow().dims()).containsExactly(96, 2048);
    assertThat(gguf.tensors()).hasSize(2 * 12 + 3);
    assertThat(gguf.requireString("tokenizer.chat_template")).contains("<|im_start|>");
  }

  @Test
  void presets_haveThePublishedShapes() {
    ModelShape l = ModelShape.llama32_1b();
    assertThat(List.of(l.blockCount(), l.embeddingLength(), l.headCount(), l.headCountKv()))
        .containsExactly(16, 2048, 32, 8);
    assertThat(List.of(l.feedForwardLength(), l.vocabSize(), l.contextLength()))
        .containsExactly(8192, 128_256, 131_072);
    assertThat(l.ropeFreqBase()).isEqualTo(500_000f);
    assertThat(l.tiedEmbeddings()).isTrue();
    ModelShape q = ModelShape.qwen25_05b();
    assertThat(List.of(q.blockCount(), q.embeddingLength(), q.headCount(), q.headCountKv()))
        .containsExactly(24, 896, 14, 2);
    assertThat(List.of(q.feedForwardLength(), q.vocabSize())).containsExactly(4864, 151_936);
    assertThat(q.ropeFreqBase()).isEqualTo(1_000_000f);
    assertThat(q.hasQkvBias()).isTrue();
    assertThat(ModelShape.preset("llama-3.2-1b")).isEqualTo(l);
    assertThat(ModelShape.preset("qwen2.5-0.5b")).isEqualTo(q);
  }

  @Test
  void tensorDataBytes_llama32_1bInQ4_0_isAbout700MB() {
    long bytes = SyntheticModel.of(ModelShape.llama32_1b(), GgmlType.Q4_0, 1).tensorDataBytes();
    // 1.236e9 weights x 18/32 bytes, plus the F32 norms
    assertThat(bytes).isBetween(690_000_000L, 700_000_000L);
  }

  @Test
  void vocabulary_atTheMinimumSize_isUniqueWithBytesAndSpecials() {
    assertThat(SyntheticVocabulary.coreSize()).isLessThanOrEqualTo(ModelShape.MIN_VOCAB_SIZE);
    SyntheticVocabulary v = SyntheticVocabulary.of(ModelShape.MIN_VOCAB_SIZE, ChatTemplate.LLAMA3);
    assertThat(v.tokens()).hasSize(ModelShape.MIN_VOCAB_SIZE);
    assertThat(new HashSet<>(v.tokens())).hasSize(ModelShape.MIN_VOCAB_SIZE);
    assertThat(v.tokens()).contains("<0x00>", "<0x0A>", "<0xFF>", "<|eot_id|>", "<|im_end|>");
    assertThat(v.tokens().get(v.bosId())).isEqualTo("<|begin_of_text|>");
    assertThat(v.tokens().get(v.eosId())).isEqualTo("<|eot_id|>");
    SyntheticVocabulary chatml = SyntheticVocabulary.of(150_000, ChatTemplate.CHATML);
    assertThat(new HashSet<>(chatml.tokens())).hasSize(150_000);
    assertThat(chatml.tokens().get(chatml.eosId())).isEqualTo("<|im_end|>");
  }

  @Test
  void shape_withRowsNotMultipleOf32_isRejectedWithTheRule() {
    assertThatThrownBy(
            () ->
                new ModelShape(
                    "bad",
                    ModelShape.Architecture.LLAMA,
                    1,
                    100,
                    4,
                    2,
                    256,
                    4096,
                    512,
                    1e4f,
                    1e-5f,
                    true,
                    ChatTemplate.LLAMA3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "embeddingLength (100) and feedForwardLength (256) must be multiples of 32, the"
                + " quantization block size. Round them up to a multiple of 32.");
  }

  @Test
  void suggestedFileName_neverStartsWithLlama() {
    for (ModelShape s : List.of(ModelShape.tiny(), ModelShape.llama32_1b())) {
      assertThat(SyntheticModel.of(s, GgmlType.Q4_0, 5).suggestedFileName())
          .startsWith("synthetic-")
          .endsWith("-q4_0-seed5.gguf");
    }
  }
}
