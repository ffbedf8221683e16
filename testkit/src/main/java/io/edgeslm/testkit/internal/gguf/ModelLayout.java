package io.edgeslm.testkit.internal.gguf;

import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.internal.gguf.TensorSpec.Fill;
import io.edgeslm.testkit.internal.vocab.SyntheticVocabulary;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata and tensor list llama.cpp b4916 expects for the {@code llama} and {@code qwen2}
 * architectures (key names from gguf-py's {@code constants.py}, tensor names and shapes from {@code
 * llama-model.cpp} {@code load_tensors}). Shapes are in ggml order: {@code attn_q} is {@code
 * [n_embd, n_embd]}, {@code ffn_down} is {@code [n_ff, n_embd]}, {@code token_embd} is {@code
 * [n_embd, n_vocab]}.
 */
public final class ModelLayout {
  /** Standard deviation of synthetic matrix weights and biases. */
  public static final float WEIGHT_STDDEV = 0.02f;

  private ModelLayout() {}

  /** All metadata, {@code general.architecture} first. */
  public static List<MetadataEntry> metadata(
      ModelShape shape, GgmlType type, long seed, SyntheticVocabulary vocab) {
    String a = shape.architecture().ggufName();
    List<MetadataEntry> m = new ArrayList<>();
    m.add(MetadataEntry.string("general.architecture", a));
    m.add(MetadataEntry.string("general.name", shape.name()));
    m.add(
        MetadataEntry.string(
            "general.description",
            "Synthetic model written by the EdgeSLM test kit: random weights (seed "
                + seed
                + "), real shape. Its output is noise."));
    m.add(MetadataEntry.u32("general.file_type", type.fileType()));
    m.add(MetadataEntry.u32("general.alignment", Gguf.DEFAULT_ALIGNMENT));
    m.add(MetadataEntry.u32(a + ".vocab_size", shape.vocabSize()));
    m.add(MetadataEntry.u32(a + ".context_length", shape.contextLength()));
    m.add(MetadataEntry.u32(a + ".embedding_length", shape.embeddingLength()));
    m.add(MetadataEntry.u32(a + ".block_count", shape.blockCount()));
    m.add(MetadataEntry.u32(a + ".feed_forward_length", shape.feedForwardLength()));
    m.add(MetadataEntry.u32(a + ".attention.head_count", shape.headCount()));
    m.add(MetadataEntry.u32(a + ".attention.head_count_kv", shape.headCountKv()));
    m.add(MetadataEntry.f32(a + ".attention.layer_norm_rms_epsilon", shape.rmsNormEpsilon()));
    m.add(MetadataEntry.f32(a + ".rope.freq_base", shape.ropeFreqBase()));
    m.add(MetadataEntry.u32(a + ".rope.dimension_count", shape.headDimension()));
    m.add(MetadataEntry.string("tokenizer.ggml.model", "llama"));
    m.add(MetadataEntry.strings("tokenizer.ggml.tokens", vocab.tokens()));
    m.add(MetadataEntry.floats("tokenizer.ggml.scores", vocab.scores()));
    m.add(MetadataEntry.ints("tokenizer.ggml.token_type", vocab.types()));
    m.add(MetadataEntry.u32("tokenizer.ggml.bos_token_id", vocab.bosId()));
    m.add(MetadataEntry.u32("tokenizer.ggml.eos_token_id", vocab.eosId()));
    // Without an explicit EOT id llama.cpp guesses one by token text and may pick the other
    // layout's end-of-turn token; both stay end-of-generation tokens either way.
    m.add(MetadataEntry.u32("tokenizer.ggml.eot_token_id", vocab.eosId()));
    m.add(MetadataEntry.u32("tokenizer.ggml.unknown_token_id", vocab.unknownId()));
    m.add(MetadataEntry.bool("tokenizer.ggml.add_bos_token", true));
    m.add(MetadataEntry.bool("tokenizer.ggml.add_eos_token", false));
    m.add(MetadataEntry.string("tokenizer.chat_template", shape.chatTemplate().jinja()));
    return m;
  }

  /** All tensors in file order. Norms and biases stay F32 whatever {@code type} is. */
  public static List<TensorSpec> tensors(ModelShape shape, GgmlType type) {
    long embd = shape.embeddingLength();
    long kv = shape.kvWidth();
    long ff = shape.feedForwardLength();
    long vocab = shape.vocabSize();
    List<TensorSpec> t = new ArrayList<>();
    t.add(matrix("token_embd.weight", embd, vocab, type));
    for (int i = 0; i < shape.blockCount(); i++) {
      String b = "blk." + i + ".";
      t.add(ones(b + "attn_norm.weight", embd));
      t.add(matrix(b + "attn_q.weight", embd, embd, type));
      t.add(matrix(b + "attn_k.weight", embd, kv, type));
      t.add(matrix(b + "attn_v.weight", embd, kv, type));
      if (shape.hasQkvBias()) {
        t.add(bias(b + "attn_q.bias", embd));
        t.add(bias(b + "attn_k.bias", kv));
        t.add(bias(b + "attn_v.bias", kv));
      }
      t.add(matrix(b + "attn_output.weight", embd, embd, type));
      t.add(ones(b + "ffn_norm.weight", embd));
      t.add(matrix(b + "ffn_gate.weight", embd, ff, type));
      t.add(matrix(b + "ffn_up.weight", embd, ff, type));
      t.add(matrix(b + "ffn_down.weight", ff, embd, type));
    }
    t.add(ones("output_norm.weight", embd));
    if (!shape.tiedEmbeddings()) {
      t.add(matrix("output.weight", embd, vocab, type));
    }
    return t;
  }

  private static TensorSpec matrix(String name, long cols, long rows, GgmlType type) {
    return new TensorSpec(name, new long[] {cols, rows}, type, Fill.GAUSSIAN, WEIGHT_STDDEV);
  }

  private static TensorSpec ones(String name, long n) {
    return new TensorSpec(name, new long[] {n}, GgmlType.F32, Fill.ONES, 0f);
  }

  private static TensorSpec bias(String name, long n) {
    return new TensorSpec(name, new long[] {n}, GgmlType.F32, Fill.GAUSSIAN, WEIGHT_STDDEV);
  }
}
