package io.edgeslm.testkit.internal.gguf;

import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.Quantization;
import io.edgeslm.testkit.Quantization.Role;
import io.edgeslm.testkit.internal.gguf.TensorSpec.Fill;
import io.edgeslm.testkit.internal.vocab.SyntheticVocabulary;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata and tensor list llama.cpp expects for the {@code llama}, {@code qwen2}, {@code
 * qwen3} and {@code gemma3} architectures (key names from gguf-py's {@code constants.py} and {@code
 * src/llama-arch.cpp}, tensor names and shapes from each architecture's {@code load_arch_tensors}
 * in {@code src/models/}). Shapes are in ggml order: {@code attn_q} is {@code [n_embd, n_head ·
 * head_dim]}, {@code ffn_down} is {@code [n_ff, n_embd]}, {@code token_embd} is {@code [n_embd,
 * n_vocab]}.
 */
public final class ModelLayout {
  /** Standard deviation of synthetic matrix weights and biases. */
  public static final float WEIGHT_STDDEV = 0.02f;

  private ModelLayout() {}

  /** All metadata, {@code general.architecture} first. */
  public static List<MetadataEntry> metadata(
      ModelShape shape, Quantization quantization, long seed, SyntheticVocabulary vocab) {
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
    m.add(MetadataEntry.u32("general.file_type", quantization.fileType()));
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
    if (shape.queryWidth() != shape.embeddingLength() || shape.hasQkNorm()) {
      m.add(MetadataEntry.u32(a + ".attention.key_length", shape.headDimension()));
      m.add(MetadataEntry.u32(a + ".attention.value_length", shape.headDimension()));
    }
    if (shape.architecture() == ModelShape.Architecture.GEMMA3) {
      m.add(MetadataEntry.u32(a + ".attention.sliding_window", ModelShape.GEMMA3_SLIDING_WINDOW));
      m.add(MetadataEntry.f32(a + ".rope.freq_base_swa", 10_000f));
    }
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

  /**
   * All tensors in file order, matrices typed as {@code quantization} says. Norms and biases stay
   * F32.
   *
   * @throws IllegalArgumentException if a matrix row does not fit its type's block size
   */
  public static List<TensorSpec> tensors(ModelShape shape, Quantization quantization) {
    long embd = shape.embeddingLength();
    long q = shape.queryWidth();
    long kv = shape.kvWidth();
    long ff = shape.feedForwardLength();
    long vocab = shape.vocabSize();
    int n = shape.blockCount();
    boolean tied = shape.tiedEmbeddings();
    Types types = (role, layer) -> quantization.typeFor(role, layer, n, tied);
    List<TensorSpec> t = new ArrayList<>();
    t.add(matrix(shape, "token_embd.weight", embd, vocab, types.of(Role.TOKEN_EMBEDDING, -1)));
    for (int i = 0; i < n; i++) {
      String b = "blk." + i + ".";
      t.add(ones(b + "attn_norm.weight", embd));
      t.add(matrix(shape, b + "attn_q.weight", embd, q, types.of(Role.OTHER, i)));
      t.add(matrix(shape, b + "attn_k.weight", embd, kv, types.of(Role.OTHER, i)));
      t.add(matrix(shape, b + "attn_v.weight", embd, kv, types.of(Role.ATTN_V, i)));
      if (shape.hasQkvBias()) {
        t.add(bias(b + "attn_q.bias", q));
        t.add(bias(b + "attn_k.bias", kv));
        t.add(bias(b + "attn_v.bias", kv));
      }
      if (shape.hasQkNorm()) {
        t.add(ones(b + "attn_q_norm.weight", shape.headDimension()));
        t.add(ones(b + "attn_k_norm.weight", shape.headDimension()));
      }
      t.add(matrix(shape, b + "attn_output.weight", q, embd, types.of(Role.OTHER, i)));
      if (shape.hasPostNorms()) {
        t.add(ones(b + "post_attention_norm.weight", embd));
      }
      t.add(ones(b + "ffn_norm.weight", embd));
      t.add(matrix(shape, b + "ffn_gate.weight", embd, ff, types.of(Role.OTHER, i)));
      t.add(matrix(shape, b + "ffn_up.weight", embd, ff, types.of(Role.OTHER, i)));
      t.add(matrix(shape, b + "ffn_down.weight", ff, embd, types.of(Role.FFN_DOWN, i)));
      if (shape.hasPostNorms()) {
        t.add(ones(b + "post_ffw_norm.weight", embd));
      }
    }
    t.add(ones("output_norm.weight", embd));
    if (!tied) {
      t.add(matrix(shape, "output.weight", embd, vocab, types.of(Role.OUTPUT, -1)));
    }
    return t;
  }

  private interface Types {
    GgmlType of(Role role, int layer);
  }

  private static TensorSpec matrix(
      ModelShape shape, String name, long cols, long rows, GgmlType type) {
    if (cols % type.blockSize() != 0) {
      throw new IllegalArgumentException(
          "Shape '"
              + shape.name()
              + "' cannot be written in "
              + type
              + ": tensor "
              + name
              + " has rows of "
              + cols
              + " weights, not a multiple of the "
              + type.blockSize()
              + "-weight block. Choose a shape whose widths are multiples of "
              + type.blockSize()
              + " (for example tiny-"
              + shape.architecture().ggufName()
              + ") or another quantization.");
    }
    return new TensorSpec(name, new long[] {cols, rows}, type, Fill.GAUSSIAN, WEIGHT_STDDEV);
  }

  private static TensorSpec ones(String name, long n) {
    return new TensorSpec(name, new long[] {n}, GgmlType.F32, Fill.ONES, 0f);
  }

  private static TensorSpec bias(String name, long n) {
    return new TensorSpec(name, new long[] {n}, GgmlType.F32, Fill.GAUSSIAN, WEIGHT_STDDEV);
  }
}
