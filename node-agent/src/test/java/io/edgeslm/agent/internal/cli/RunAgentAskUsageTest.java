package io.edgeslm.agent.internal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ./run-agent ask}'s command line: a mistake in it is one sentence on stderr and exit code
 * 2, checked before anything connects, so a bad {@code --timeout} is never reported as an
 * unreachable agent (3). {@code --check-only} is what the script runs when no agent is running;
 * {@code RunCommandIT} runs the script itself.
 */
class RunAgentAskUsageTest {

  private record Result(int exit, String out, String err) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        AskCommand.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(
        exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A broker address where nothing listens: connecting to it would be exit code 3. */
  private static String deadBroker() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "tcp://127.0.0.1:" + s.getLocalPort();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc", "0", "3601", "1.5", "-5", ""})
  void badTimeout_isOneSentenceAndExit2_beforeAnyConnection(String timeout) throws Exception {
    Result r =
        run("--broker", deadBroker(), "--topic", "edge/v1/demo/n/ask", "--timeout", timeout, "Hi?");
    assertThat(r.exit()).as(r.err()).isEqualTo(AskCommand.USAGE);
    assertThat(r.err())
        .isEqualTo(
            "run-agent ask: --timeout must be a whole number of seconds from 1 to 3600, got '"
                + timeout
                + "'."
                + System.lineSeparator());
    assertThat(r.out()).isEmpty();
  }

  @Test
  void badTimeout_withNoAgent_isAUsageError() {
    Result r = run(AskCommand.CHECK_ONLY, "--timeout", "soon", "Hi?");
    assertThat(r.exit()).isEqualTo(AskCommand.USAGE);
    assertThat(r.err().lines().toList())
        .containsExactly(
            "run-agent ask: --timeout must be a whole number of seconds from 1 to 3600, got"
                + " 'soon'.");
  }

  @Test
  void optionWithoutValue_unknownOptionAndEmptyQuestion_areUsageErrors() {
    Result missing = run(AskCommand.CHECK_ONLY, "Hi?", "--timeout");
    assertThat(missing.exit()).isEqualTo(AskCommand.USAGE);
    assertThat(missing.err().strip())
        .isEqualTo("run-agent ask: --timeout needs a value; see ./run-agent ask --help.");

    Result unknown = run(AskCommand.CHECK_ONLY, "--timout", "5", "Hi?");
    assertThat(unknown.exit()).isEqualTo(AskCommand.USAGE);
    assertThat(unknown.err().strip())
        .isEqualTo("run-agent ask: unknown option '--timout'; see ./run-agent ask --help.");

    Result empty = run(AskCommand.CHECK_ONLY, "--timeout", "5", "  ");
    assertThat(empty.exit()).isEqualTo(AskCommand.USAGE);
    assertThat(empty.err().strip()).startsWith("run-agent ask: the question is empty;");
  }

  @Test
  void goodCommandLine_passesTheCheckSilently() {
    Result r = run(AskCommand.CHECK_ONLY, "--timeout", "30", "--json", "What", "is", "it?");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEmpty();
  }

  @Test
  void goodCommandLine_withoutTheCheck_triesTheBroker() throws Exception {
    // The same options reach the connection: nothing listens there, so it is exit code 3.
    Result r =
        run("--broker", deadBroker(), "--topic", "edge/v1/demo/n/ask", "--timeout", "5", "Hi?");
    assertThat(r.exit()).as(r.err()).isEqualTo(AskCommand.UNREACHABLE);
    assertThat(r.err())
        .startsWith("run-agent ask: cannot reach the agent's broker at tcp://127.0.0.1:");
  }

  @Test
  void help_printsTheUsageAndExits0() {
    Result h = run("--help");
    assertThat(h.exit()).isZero();
    assertThat(h.out()).isEqualTo(AskCommand.USAGE_TEXT);
  }
}
