package io.edgeslm.testkit.internal.gguf;

import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.internal.gguf.TensorSpec.Fill;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata and tensor list of a GGUF LoRA adapter as llama.cpp's loader checks them ({@code
 * llama_adapter_lora_init_impl} in {@code src/llama-adapter.cpp}): {@code general.type} is {@code
 * adapter}, {@code general.architecture} equals the base model's, {@code adapter.type} is {@code
 * lora}, {@code adapter.lora.alpha} is a float32, and every adapted base tensor {@code W} of ggml
 * shape {@code [in, out]} has a pair {@code W.lora_a} of shape {@code [in, rank]} and {@code
 * W.lora_b} of shape {@code [rank, out]} (the loader reports "lora_a tensor is not transposed" when
 * {@code lora_a.ne[1] != lora_b.ne[0]}). The pairs may cover any subset of the base's matrices.
 */
public final class LoraLayout {
  private LoraLayout() {}

  /** All metadata, {@code general.architecture} first. */
  public static List<MetadataEntry> metadata(
      ModelShape shape, String name, float alpha, long seed, long baseSeed) {
    List<MetadataEntry> m = new ArrayList<>();
    m.add(MetadataEntry.string("general.architecture", shape.architecture().ggufName()));
    m.add(MetadataEntry.string("general.type", "adapter"));
    m.add(MetadataEntry.string("general.name", name));
    m.add(
        MetadataEntry.string(
            "general.description",
            "Synthetic LoRA adapter written by the EdgeSLM test kit for the synthetic base '"
                + shape.name()
                + "' (seed "
                + baseSeed
                + "): random low-rank deltas (seed "
                + seed
                + "). It changes the output, not its sense."));
    m.add(MetadataEntry.u32("general.alignment", Gguf.DEFAULT_ALIGNMENT));
    m.add(MetadataEntry.string("adapter.type", "lora"));
    m.add(MetadataEntry.f32("adapter.lora.alpha", alpha));
    return m;
  }

  /**
   * The lora_a/lora_b pairs (F32) for the q and v projections and the three feed-forward matrices
   * of every block, the targets PEFT configurations usually pick.
   */
  public static List<TensorSpec> tensors(ModelShape shape, int rank, float stddev) {
    long embd = shape.embeddingLength();
    long q = shape.queryWidth();
    long kv = shape.kvWidth();
    long ff = shape.feedForwardLength();
    List<TensorSpec> t = new ArrayList<>();
    for (int i = 0; i < shape.blockCount(); i++) {
      String b = "blk." + i + ".";
      pair(t, b + "attn_q.weight", embd, q, rank, stddev);
      pair(t, b + "attn_v.weight", embd, kv, rank, stddev);
      pair(t, b + "ffn_gate.weight", embd, ff, rank, stddev);
      pair(t, b + "ffn_up.weight", embd, ff, rank, stddev);
      pair(t, b + "ffn_down.weight", ff, embd, rank, stddev);
    }
    return t;
  }

  private static void pair(
      List<TensorSpec> t, String base, long in, long out, int rank, float stddev) {
    t.add(
        new TensorSpec(
            base + ".lora_a", new long[] {in, rank}, GgmlType.F32, Fill.GAUSSIAN, stddev));
    t.add(
        new TensorSpec(
            base + ".lora_b", new long[] {rank, out}, GgmlType.F32, Fill.GAUSSIAN, stddev));
  }
}
