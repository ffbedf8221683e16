package io.edgeslm.inference.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.inference.ModelLoadException;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.ModelShape.Architecture;
import io.edgeslm.testkit.Quantization;
import io.edgeslm.testkit.SyntheticModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GgufCheckTest {
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void architecture_readsGeneralArchitectureFromTheHeader(Architecture arch) throws Exception {
    Path f =
        SyntheticModel.of(ModelShape.tiny(arch), Quantization.Q8_0, 1)
            .write(dir.resolve(arch + ".gguf"));
    assertThat(GgufCheck.architecture(f)).contains(arch.ggufName());
  }

  @Test
  void architecture_notGgufOrTruncated_isEmpty() throws Exception {
    Path text = Files.writeString(dir.resolve("a.gguf"), "not a model at all");
    assertThat(GgufCheck.architecture(text)).isEmpty();
    Path full =
        SyntheticModel.of(ModelShape.tiny(), Quantization.Q8_0, 1).write(dir.resolve("m.gguf"));
    Path cut = dir.resolve("cut.gguf");
    Files.write(cut, Arrays.copyOf(Files.readAllBytes(full), 40));
    assertThat(GgufCheck.architecture(cut)).isEmpty();
  }

  @Test
  void workerRefusal_qwen3_namesTheArchitectureTheEngineAndWhatToDo() {
    assertThat(GgufCheck.workerRefusal(Path.of("/models/plant-qwen3.gguf"), "qwen3"))
        .contains(
            "Model 'plant-qwen3.gguf' has architecture 'qwen3', which the bundled JNI worker"
                + " engine (llama.cpp b4916) cannot load. Select the llama-server engine"
                + " (edgeslm.agent.model.engine=llama-server) or use a model of an architecture"
                + " b4916 knows, such as llama (Llama 3, Mistral), qwen2 (Qwen2.5), phi3, gemma2"
                + " or gemma3.");
  }

  @Test
  void workerRefusal_architecturesB4916Knows_areNotRefused() {
    for (String a : new String[] {"llama", "qwen2", "gemma3", "phi3", "granite"}) {
      assertThat(GgufCheck.workerRefusal(Path.of("m.gguf"), a)).as(a).isEmpty();
    }
    for (String a : new String[] {"qwen3", "gemma3n", "smollm3", "lfm2", "llama4"}) {
      assertThat(GgufCheck.workerRefusal(Path.of("m.gguf"), a)).as(a).isPresent();
    }
  }

  @Test
  void requireWorkerArchitecture_tinyQwen3File_isRefusedAtLoad() throws Exception {
    Path f =
        SyntheticModel.of(ModelShape.tiny(Architecture.QWEN3), Quantization.Q4_K_M, 1)
            .write(dir.resolve("tiny-qwen3.gguf"));
    assertThatThrownBy(() -> GgufCheck.requireWorkerArchitecture(f))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(
            "Model 'tiny-qwen3.gguf' has architecture 'qwen3', which the bundled JNI worker engine"
                + " (llama.cpp b4916) cannot load.");
  }
}
