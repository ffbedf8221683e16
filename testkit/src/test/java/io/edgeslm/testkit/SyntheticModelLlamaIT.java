package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Loads synthetic models in the real llama.cpp (de.kherud:llama) in a child JVM. */
class SyntheticModelLlamaIT {
  private static final String SENTENCE =
      "The pump temperature is 81.5 degrees, above the threshold: check valve 3 now!";

  @TempDir Path dir;

  private JsonNode probe(SyntheticModel model) throws Exception {
    Path file = model.write(dir.resolve(model.suggestedFileName()));
    ChildJvm.Result r =
        ChildJvm.of(LlamaProbeMain.class.getName())
            .llamaTempDir(dir.resolve("natives"))
            .jvmArgs("-Xmx256m")
            .args(file.toString(), SENTENCE, "12")
            .timeout(Duration.ofMinutes(3))
            .run()
            .requireExitCode(0);
    String line =
        r.stdout()
            .lines()
            .filter(l -> l.startsWith("RESULT "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("No RESULT line; stderr:\n" + r.stderr()));
    return new ObjectMapper().readTree(line.substring("RESULT ".length()));
  }

  @ParameterizedTest
  @EnumSource(
      value = Quantization.class,
      names = {"F32", "Q8_0", "Q4_0"})
  void tinyModel_loadsInLlamaCpp_roundTripsTextAppliesTemplateAndGenerates(Quantization q)
      throws Exception {
    JsonNode r = probe(SyntheticModel.of(ModelShape.tiny(), q, 42));

    // SentencePiece marks the start of the text as a word start, so the decoded text
    // gains the leading space that the "▁" of the first piece stands for.
    assertThat(r.get("decoded").asText()).isEqualTo(" " + SENTENCE);
    // whole words come out as single pieces: far fewer tokens than characters
    assertThat(r.get("tokens").size()).isBetween(10, SENTENCE.length() / 2);
    assertThat(r.get("template").asText())
        .isEqualTo(
            "<|start_header_id|>system<|end_header_id|>\n\nYou watch the pumps.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nIs pump 3 ok?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    assertGenerated(r);
  }

  @Test
  void qwen2Model_withChatMl_loadsAndGenerates() throws Exception {
    JsonNode r = probe(SyntheticModel.of(SyntheticModelTest.tinyQwen(), GgmlType.Q4_0, 8));
    assertThat(r.get("decoded").asText()).isEqualTo(" " + SENTENCE);
    assertThat(r.get("template").asText())
        .isEqualTo(
            "<|im_start|>system\nYou watch the pumps.<|im_end|>\n"
                + "<|im_start|>user\nIs pump 3 ok?<|im_end|>\n<|im_start|>assistant\n");
    assertGenerated(r);
  }

  // The bundled binding's llama.cpp (b4916) cannot load qwen3, and it crashes (SIGSEGV in its
  // warm-up run) on the synthetic gemma3; the current engine's test (SyntheticModelServerIT)
  // covers all four architectures.
  @ParameterizedTest
  @EnumSource(
      value = ModelShape.Architecture.class,
      names = {"LLAMA", "QWEN2"})
  void tinyModelInQ4KM_loadsInTheBundledBinding_andGenerates(ModelShape.Architecture arch)
      throws Exception {
    JsonNode r = probe(SyntheticModel.of(ModelShape.tiny(arch), Quantization.Q4_K_M, 5));
    assertThat(r.get("decoded").asText()).isEqualTo(" " + SENTENCE);
    assertGenerated(r);
  }

  @Test
  void sameSeed_generatesTheSameTokens() throws Exception {
    SyntheticModel model = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, 77);
    List<String> first = texts(probe(model).get("generated"));
    List<String> second = texts(probe(model).get("generated"));
    assertThat(first).isNotEmpty().isEqualTo(second);
  }

  // Up to n_predict (12) streamed pieces: one per token, except that a token ending inside a
  // multi-byte UTF-8 character is held back and sent with the next one.
  private static void assertGenerated(JsonNode r) {
    List<String> pieces = texts(r.get("generated"));
    assertThat(pieces).hasSizeBetween(6, 12);
    assertThat(String.join("", pieces)).isNotBlank();
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
