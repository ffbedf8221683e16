package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the reference AsyncAPI parser ({@code @asyncapi/parser}, pinned in {@code
 * src/test/asyncapi/package-lock.json}, installed by the build) on {@code docs/asyncapi.yaml} in a
 * Node.js process. It checks what the JSON Schema validation in {@link AsyncApiDocumentTest}
 * cannot: that every {@code $ref} resolves and that operations use their channels' messages.
 */
class AsyncApiParserIT {

  /** A guard against a hung process, not a speed expectation. */
  private static final long PROCESS_LIMIT_SECONDS = 300;

  private record Run(int exitCode, String output) {}

  private static Path toolsDir() {
    String dir = System.getProperty("edgeslm.asyncapi.dir", "src/test/asyncapi");
    Path path = Path.of(dir);
    if (!Files.isDirectory(path.resolve("node_modules/@asyncapi/parser"))) {
      fail(
          "@asyncapi/parser is not installed in "
              + path.toAbsolutePath()
              + "/node_modules. The Maven build installs it with npm ci; install npm (Debian/Ubuntu:"
              + " apt-get install npm) and run ./mvnw -B -pl protocol verify.");
    }
    return path;
  }

  private static Run validate(Path document) throws IOException, InterruptedException {
    Path tools = toolsDir();
    Process process;
    try {
      process =
          new ProcessBuilder(
                  List.of("node", "validate-asyncapi.mjs", document.toAbsolutePath().toString()))
              .directory(tools.toFile())
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      throw new AssertionError(
          "Could not start 'node' ("
              + e.getMessage()
              + "). Install Node.js and npm (Debian/Ubuntu: apt-get install npm).",
          e);
    }
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(PROCESS_LIMIT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("node validate-asyncapi.mjs did not finish within " + PROCESS_LIMIT_SECONDS + " s");
    }
    return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  private static Path document() {
    return Path.of(System.getProperty("edgeslm.asyncapi.document", "../docs/asyncapi.yaml"));
  }

  @Test
  void parser_acceptsTheDocument_withoutErrorsOrWarnings() throws Exception {
    Run run = validate(document());

    assertThat(run.output()).as(run.output()).contains("VALID ").doesNotContain("INVALID");
    assertThat(run.exitCode()).as(run.output()).isZero();
  }

  @Test
  void parser_rejectsAnOperationUsingAMissingMessage(@TempDir Path dir) throws Exception {
    // The JSON Schema alone cannot see this: the reference is a well-formed string.
    String broken =
        Files.readString(document())
            .replace(
                "- $ref: '#/channels/report/messages/SensorReport'",
                "- $ref: '#/channels/report/messages/SensorReprot'");
    assertThat(broken).contains("SensorReprot");
    Path copy = dir.resolve("asyncapi.yaml");
    Files.writeString(copy, broken);

    Run run = validate(copy);

    assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
    assertThat(run.output()).contains("INVALID").contains("publishReport");
  }
}
