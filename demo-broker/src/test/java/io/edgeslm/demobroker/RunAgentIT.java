package io.edgeslm.demobroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Source;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Run command: {@code ./run-agent} (here with {@code --no-build}, on this build's
 * {@code node-agent/target/quarkus-app} and {@code demo-broker/target/embedded-broker}) with no
 * broker configured starts the agent on the embedded MQTT 5 broker, which it loads from this
 * module's jars (the gateway artifact has none), with the demo simulator and rule-based answers; it
 * prints how to ask, answers the printed {@code mosquitto_rr} command and {@code ./run-agent ask},
 * and stops cleanly on SIGTERM.
 */
class RunAgentIT {

  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final Path RUN_AGENT = Path.of("..", "run-agent").toAbsolutePath().normalize();
  private static final String QUESTION = "What is the oil temperature of press 3?";

  @TempDir Path home;

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private ProcessBuilder runAgent(String... args) {
    List<String> cmd = new java.util.ArrayList<>(List.of(RUN_AGENT.toString(), "--no-build"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("EDGESLM_HOME", home.toString());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().remove("EDGESLM_AGENT_BROKER_URL");
    pb.environment().remove("EDGESLM_CONFIG");
    pb.environment().remove("EDGESLM_AGENT_BROKER_EMBEDDED_JARS");
    return pb;
  }

  @Test
  void runAgent_embeddedBrokerFromTheDemoModule_printsHowToAskAndAnswers() throws Exception {
    assertThat(Path.of(System.getProperty("edgeslm.embedded-broker.dir")))
        .as("the package phase copies the broker's jars before the integration tests")
        .isDirectory();
    int port = freePort();
    Path log = home.resolve("agent.log");
    ProcessBuilder pb = runAgent().redirectOutput(log.toFile());
    pb.environment().put("EDGESLM_AGENT_BROKER_EMBEDDED_PORT", Integer.toString(port));
    pb.environment().put("EDGESLM_MANAGEMENT_PORT", Integer.toString(freePort()));
    pb.environment().put("EDGESLM_AGENT_REPORT_INTERVAL", "2s");
    pb.environment().put("EDGESLM_AGENT_DEMO_PERIOD", "200ms");
    Process agent = pb.start();
    try {
      await()
          .atMost(WAIT)
          .until(() -> Files.readString(log).contains("is running ====") || !agent.isAlive());
      String banner = Files.readString(log);
      assertThat(banner)
          .as(banner)
          .contains("Embedded MQTT 5 broker (HiveMQ CE) listening on 127.0.0.1:" + port)
          .contains("(embedded MQTT 5 broker: no broker configured)")
          .contains("Serving: rules (no model configured)")
          .contains("mosquitto_rr -V mqttv5 -h 127.0.0.1 -p " + port + " -t 'edge/v1/demo/")
          .contains("./run-agent ask \"" + QUESTION + "\"")
          .doesNotContain("Exception");
      Properties info = new Properties();
      try (var in = Files.newInputStream(home.resolve("agent/run-info.properties"))) {
        info.load(in);
      }
      assertThat(info.getProperty("broker")).isEqualTo("tcp://127.0.0.1:" + port);

      // A scheduled report, read with the stock Mosquitto client.
      String report =
          run(
              List.of(
                  "mosquitto_sub",
                  "-V",
                  "mqttv5",
                  "-h",
                  "127.0.0.1",
                  "-p",
                  Integer.toString(port),
                  "-t",
                  info.getProperty("report-topic"),
                  "-C",
                  "1",
                  "-W",
                  "60"));
      assertThat(
              Json.read(report.getBytes(StandardCharsets.UTF_8), SensorReport.class)
                  .provenance()
                  .source())
          .isEqualTo(Source.RULES);

      // The MQTT 5 command as the banner prints it (mosquitto_rr waits for the answer).
      String rr =
          run(
              List.of(
                  "mosquitto_rr",
                  "-V",
                  "mqttv5",
                  "-h",
                  "127.0.0.1",
                  "-p",
                  Integer.toString(port),
                  "-t",
                  info.getProperty("ask-topic"),
                  "-e",
                  "operator/answers",
                  "-m",
                  "{\"question\":\"" + QUESTION + "\"}",
                  "-W",
                  "60"));
      Answer answer = Json.read(rr.getBytes(StandardCharsets.UTF_8), Answer.class);
      assertThat(answer.answer()).contains("Press 3 oil temperature is");
      assertThat(answer.sensors()).isNotEmpty();

      // ./run-agent ask finds the agent through the run-info file.
      Process ask = runAgent("ask", QUESTION).start();
      String askOut = new String(ask.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(ask.waitFor()).as(askOut).isZero();
      assertThat(askOut).contains("Press 3 oil temperature is").contains("  source: rules");
    } finally {
      agent.destroy(); // run-agent exec()s the JVM: this is Ctrl-C's SIGTERM
      if (!agent.waitFor(180, TimeUnit.SECONDS)) {
        agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    assertThat(agent.exitValue()).as(Files.readString(log)).isEqualTo(143);
    assertThat(Files.readString(log)).doesNotContain("valid AOT configuration");
  }

  /** Runs a command to its end and returns its output; fails on a non-zero exit. */
  private static String run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }
}
