package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.ModelShape.Architecture;
import io.edgeslm.testkit.Quantization;
import io.edgeslm.testkit.SyntheticModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The architectures and K-quants users pick, on the engines that run them: the llama-server engine
 * (the pinned current llama.cpp) generates from each; the bundled worker refuses what b4916 cannot
 * load with the architecture named, before a worker is started.
 */
class ArchitecturesIT {
  @TempDir Path dir;

  private Path model(Architecture arch, Quantization q) throws Exception {
    SyntheticModel m = SyntheticModel.of(ModelShape.tiny(arch), q, 21);
    return m.write(dir.resolve(m.suggestedFileName()));
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void llamaServerEngine_tinyModelInQ4KM_generatesAStream(Architecture arch) throws Exception {
    try (InferenceEngine engine =
        InferenceEngines.open(
            Backend.LLAMA_SERVER.config(),
            ModelSpec.of(model(arch, Quantization.Q4_K_M), 2, 1024))) {
      List<String> pieces = new CopyOnWriteArrayList<>();
      GenerationResult r =
          engine
              .generate(
                  GenerationRequest.ofChat(
                      List.of(
                          ChatMessage.system("You watch the pumps."),
                          ChatMessage.user("Is pump 3 ok?")),
                      8),
                  pieces::add)
              .await();
      assertThat(r.generatedTokens()).isBetween(1, 8);
      assertThat(String.join("", pieces)).isEqualTo(r.text());
      assertThat(r.promptTokens()).isGreaterThan(10);
    }
  }

  @Test
  void workerEngine_qwen3Model_isRefusedNamingArchitectureAndTheEngineToSelect() throws Exception {
    Path qwen3 = model(Architecture.QWEN3, Quantization.Q4_K_M);
    assertThatThrownBy(
            () -> InferenceEngines.open(Backend.WORKER.config(), ModelSpec.of(qwen3, 2, 1024)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage(
            "Model '"
                + qwen3.getFileName()
                + "' has architecture 'qwen3', which the bundled JNI worker engine (llama.cpp"
                + " b4916) cannot load. Select the llama-server engine"
                + " (edgeslm.agent.model.engine=llama-server) or use a model of an architecture"
                + " b4916 knows, such as llama (Llama 3, Mistral), qwen2 (Qwen2.5), phi3, gemma2"
                + " or gemma3.");
  }

  @Test
  void llamaServerEngine_unknownArchitecture_isRefusedNamingIt() throws Exception {
    Path file = model(Architecture.LLAMA, Quantization.Q8_0);
    // Rename the architecture in the header: the value after the key general.architecture.
    byte[] b = Files.readAllBytes(file);
    byte[] key = "general.architecture".getBytes(StandardCharsets.US_ASCII);
    int at = indexOf(b, key) + key.length + 4 + 8; // value type u32, string length u64
    assertThat(new String(b, at, 5, StandardCharsets.US_ASCII)).isEqualTo("llama");
    b[at + 4] = 'x';
    Path odd = Files.write(dir.resolve("odd.gguf"), b);

    assertThatThrownBy(
            () -> InferenceEngines.open(Backend.LLAMA_SERVER.config(), ModelSpec.of(odd, 2, 1024)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(
            "llama-server could not load '"
                + odd
                + "' (architecture 'llamx' in its GGUF header). Check that the file is a complete"
                + " GGUF model of an architecture this llama.cpp release supports.");
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
