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
        .startsWith("Unknown shape 'gpt5'. Use one of: tiny, llama-3.2-1b, qwen2.5-0.5b.")
        .contains(GgufWriterMain.USAGE);
  }

  @Test
  void run_missingOutput_exitsWith2() {
    assertThat(run("--shape", "tiny", "--type", "f32")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("--shape, --type and an output file are required.");
  }
}
