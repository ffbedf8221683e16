package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.testkit.ModelShape.Architecture;
import io.edgeslm.testkit.SyntheticModelServerIT.Server;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The synthetic LoRA adapter loads in the current llama.cpp's {@code llama-server} beside its base
 * and changes the greedy output, both per request ({@code "lora": [{"id", "scale"}]} in the
 * completion body) and server-wide ({@code POST /lora-adapters}), without reloading the base;
 * llama-server's README ("LoRA adapters") documents both. Fails when the binary is missing.
 */
class SyntheticLoraAdapterServerIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SyntheticModel BASE =
      SyntheticModel.of(ModelShape.tiny(Architecture.LLAMA), Quantization.Q8_0, 42);

  @TempDir Path dir;

  @Test
  void adapter_loadsBesideTheBase_andChangesGreedyOutput_perRequestAndServerWide()
      throws Exception {
    Path base = BASE.write(dir.resolve(BASE.suggestedFileName()));
    SyntheticLoraAdapter adapter = SyntheticLoraAdapter.of(BASE, 7);
    Path lora = adapter.write(dir.resolve(adapter.suggestedFileName()));

    String baseOnly;
    try (Server s = Server.start(base, dir)) {
      baseOnly = complete(s, null);
    }

    // The pinned release lists (and applies) an adapter at scale 1.0 even with
    // --lora-init-without-apply, so the node never relies on the start-up scale: it sets one.
    try (Server s = Server.start(base, dir, "--lora", lora.toString())) {
      JsonNode listed = s.get("/lora-adapters");
      assertThat(listed).hasSize(1);
      assertThat(listed.get(0).path("id").asInt()).isZero();
      assertThat(Path.of(listed.get(0).path("path").asText()).getFileName())
          .isEqualTo(lora.getFileName());

      String plain = complete(s, 0.0);
      assertThat(plain).isEqualTo(baseOnly);
      String adapted = complete(s, 1.0);
      assertThat(adapted).isNotEqualTo(plain);
      // Greedy decoding is deterministic: the same scale gives the same text again.
      assertThat(complete(s, 1.0)).isEqualTo(adapted);
      assertThat(complete(s, 0.0)).isEqualTo(plain);

      ArrayNode on = JSON.createArrayNode();
      on.addObject().put("id", 0).put("scale", 1.0);
      s.post("/lora-adapters", on);
      assertThat(s.get("/lora-adapters").get(0).path("scale").asDouble()).isEqualTo(1.0);
      assertThat(complete(s, null)).isEqualTo(adapted);

      ArrayNode off = JSON.createArrayNode();
      off.addObject().put("id", 0).put("scale", 0.0);
      s.post("/lora-adapters", off);
      assertThat(complete(s, null)).isEqualTo(plain);
    }
  }

  @Test
  void adapterForAnotherBaseShape_isRefusedByTheLoader_withAShapeError() throws Exception {
    Path base = BASE.write(dir.resolve(BASE.suggestedFileName()));
    ModelShape tiny = ModelShape.tiny(Architecture.LLAMA);
    SyntheticModel wider =
        SyntheticModel.of(
            new ModelShape(
                "wider",
                tiny.architecture(),
                tiny.blockCount(),
                tiny.embeddingLength(),
                tiny.headCount(),
                tiny.headCountKv(),
                tiny.headDimension(),
                tiny.feedForwardLength() * 2,
                tiny.vocabSize(),
                tiny.contextLength(),
                tiny.ropeFreqBase(),
                tiny.rmsNormEpsilon(),
                tiny.tiedEmbeddings(),
                tiny.chatTemplate()),
            Quantization.Q8_0,
            42);
    SyntheticLoraAdapter foreign = SyntheticLoraAdapter.of(wider, 7);
    Path lora = foreign.write(dir.resolve(foreign.suggestedFileName()));

    assertThatThrownBy(() -> Server.start(base, dir, "--lora", lora.toString()).close())
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("llama-server exited")
        .hasMessageContaining("has incorrect shape");
  }

  private static String complete(Server s, Double scale) throws Exception {
    ObjectNode body =
        JSON.createObjectNode()
            .put("prompt", "The pump temperature is")
            .put("n_predict", 16)
            .put("temperature", 0)
            .put("ignore_eos", true)
            .put("cache_prompt", false);
    if (scale != null) {
      body.putArray("lora").addObject().put("id", 0).put("scale", scale);
    }
    JsonNode done = s.post("/completion", body);
    assertThat(done.get("tokens_predicted").asInt()).isEqualTo(16);
    return done.get("content").asText();
  }
}
