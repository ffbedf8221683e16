package io.edgeslm.agent.internal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code ./run-agent}'s own command line (the script, run as a process): an unknown option or
 * command is one sentence naming it and pointing at {@code --help}, with exit code 2, before
 * anything else happens. The script runs here where nothing past its command line could work: no
 * Java on PATH, no JAVA_HOME and nothing where the JDK finder looks (EDGESLM_JAVA_SEARCH names an
 * empty directory), so reaching the JDK search, the build or the agent would end in exit code 1 and
 * the finder's message instead. {@code ./run-agent ask}'s command line is {@link
 * RunAgentAskUsageTest}; {@code --help} without a build is {@code FreshCloneRunIT}.
 */
class RunAgentUsageTest {

  private static final Path RUN_AGENT = Path.of("..", "run-agent").toAbsolutePath().normalize();

  @TempDir Path tmp;
  private Path tools;

  private record Result(int exit, String out, List<String> err) {}

  @BeforeEach
  void baseToolsOnly() throws IOException {
    tools = Files.createDirectories(tmp.resolve("bin"));
    for (String tool :
        List.of("bash", "env", "dirname", "basename", "readlink", "sed", "head", "cat")) {
      for (String dir : List.of("/usr/bin", "/bin")) {
        Path p = Path.of(dir, tool);
        if (Files.isExecutable(p) && !Files.exists(tools.resolve(tool))) {
          Files.createSymbolicLink(tools.resolve(tool), p);
        }
      }
    }
    Files.createDirectories(tmp.resolve("no-jdks"));
  }

  private Result runAgent(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(RUN_AGENT.toString()));
    cmd.addAll(List.of(args));
    Path out = tmp.resolve("out"), err = tmp.resolve("err");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(tmp.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    pb.environment().clear();
    pb.environment().put("PATH", tools.toString());
    pb.environment().put("HOME", tmp.toString());
    pb.environment().put("EDGESLM_HOME", tmp.resolve("edgeslm").toString());
    pb.environment().put("EDGESLM_JAVA_SEARCH", tmp.resolve("no-jdks").toString());
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("./run-agent " + String.join(" ", args) + " hung");
    }
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readAllLines(err, StandardCharsets.UTF_8));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "--bogus            | run-agent: unknown option '--bogus'; see ./run-agent --help.",
        "--no-build --bogus | run-agent: unknown option '--bogus'; see ./run-agent --help.",
        "-x                 | run-agent: unknown option '-x'; see ./run-agent --help.",
        "foo                | run-agent: unknown command 'foo' (the commands are: ask); see"
            + " ./run-agent --help.",
        "--no-build foo     | run-agent: unknown command 'foo' (the commands are: ask); see"
            + " ./run-agent --help.",
      })
  void unknownOptionOrCommand_isOneSentenceNamingIt_exit2_beforeLookingForJavaOrBuilding(
      String args, String sentence) throws Exception {
    Result r = runAgent(args.split(" "));
    assertThat(r.exit()).as(String.join("\n", r.err())).isEqualTo(2);
    assertThat(r.err()).containsExactly(sentence);
    assertThat(r.out()).isEmpty();
    assertThat(tmp.resolve("edgeslm")).as("no state is written").doesNotExist();
  }

  @Test
  void aGoodCommandLine_goesOnToLookForJava_whichThisEnvironmentDoesNotHave() throws Exception {
    // The premise of the test above: past the command line, the script stops at the JDK finder.
    Result r = runAgent("--no-build");
    assertThat(r.exit()).as(String.join("\n", r.err())).isEqualTo(1);
    assertThat(r.err())
        .singleElement(InstanceOfAssertFactories.STRING)
        .startsWith("run-agent: EdgeSLM needs a Java 21 or newer and found none in JAVA_HOME,")
        .contains("under " + tmp.resolve("no-jdks"));
    assertThat(r.out()).isEmpty();
  }
}
