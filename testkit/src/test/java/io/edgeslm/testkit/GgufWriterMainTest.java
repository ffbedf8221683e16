package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterMainTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return GgufWriterMain.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void run_tinyQ8_0_writesAReadableFileAndReportsItsSize() throws Exception {
    Path file = dir.resolve("m.gguf");
    assertThat(run("--shape", "tiny", "--type", "q8_0", "--seed", "5", file.toString())).isZero();
    assertThat(GgufReader.read(file).requireLong("general.file_type")).isEqualTo(7);
    assertThat(out.toString(StandardCharsets.UTF_8)).startsWith(file + " ").contains(" bytes in ");
  }

  @Test
  void run_unknownShape_exitsWith2AndNamesTheChoices() {
    assertThat(run("--shape", "gpt5", "--type", "q4_0", dir.resolve("x").toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith(
            "Unknown shape 'gpt5'. Use one of: tiny, tiny-llama, tiny-qwen2, tiny-qwen3,"
                + " tiny-gemma3, llama-3.2-1b, qwen2.5-0.5b, qwen3-0.6b, gemma3-1b.")
        .contains(GgufWriterMain.USAGE);
  }

  @Test
  void run_tinyQwen3InQ4KM_writesTheMixture() throws Exception {
    Path file = dir.resolve("q3.gguf");
    assertThat(run("--shape", "tiny-qwen3", "--type", "q4_k_m", file.toString())).isZero();
    GgufFile gguf = GgufReader.read(file);
    assertThat(gguf.requireString("general.architecture")).isEqualTo("qwen3");
    assertThat(gguf.requireLong("general.file_type")).isEqualTo(15);
    assertThat(gguf.tensor("blk.0.attn_q.weight").orElseThrow().type()).isEqualTo(GgmlType.Q4_K);
  }

  @Test
  void run_unknownType_exitsWith2AndNamesTheChoices() {
    assertThat(run("--shape", "tiny", "--type", "q5_k_m", dir.resolve("x").toString()))
        .isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("Unknown quantization 'q5_k_m'. Use one of: f32, q8_0, q4_0, q4_k_m.");
  }

  @Test
  void progressLine_smallModel_showsMegabytesWithADecimal() {
    // A 1.4 MB model used to read "0 / 0 MiB (63%)".
    assertThat(GgufWriterMain.progressLine("m.gguf", 900_000, 1_430_000))
        .isEqualTo("\rm.gguf: 0.9 / 1.4 MB (62%)");
    assertThat(GgufWriterMain.progressLine("big.gguf", 349_000_000, 698_000_000))
        .isEqualTo("\rbig.gguf: 349.0 / 698.0 MB (50%)");
  }

  @Test
  void run_missingOutput_exitsWith2() {
    assertThat(run("--shape", "tiny", "--type", "f32")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("--shape, --type and an output file are required.");
  }
}
