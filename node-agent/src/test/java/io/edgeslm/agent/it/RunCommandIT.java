package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Source;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The configuration of the README's Run command ({@code ./run-agent}): no broker configured, so the
 * agent starts its embedded MQTT 5 broker, the demo simulator and rule-based answers, prints how to
 * ask, and answers the printed commands; {@code ./run-agent ask} answers too.
 */
class RunCommandIT {

  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path home;

  @Test
  void embeddedDefault_startsPrintsHowToAskAndAnswersMosquittoRrAndRunAgentAsk() throws Exception {
    int port = AgentProcess.freePort();
    Path runInfo = home.resolve("agent").resolve("run-info.properties");
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_EMBEDDED_PORT", Integer.toString(port));
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", home.resolve("journal").toString());
    env.put("EDGESLM_AGENT_RUN_INFO_FILE", runInfo.toString());
    env.put("EDGESLM_AGENT_REPORT_INTERVAL", "2s");
    env.put("EDGESLM_AGENT_DEMO_PERIOD", "200ms");
    try (AgentProcess agent = AgentProcess.start(env, home)) {
      await()
          .atMost(WAIT)
          .until(() -> agent.output().contains("is running ====") || !agent.isAlive());
      String banner = agent.output();
      assertThat(banner)
          .as(banner)
          .contains("(embedded MQTT 5 broker: no broker configured)")
          .contains("Serving: rules (no model configured)")
          .contains("mosquitto_rr -V mqttv5 -h 127.0.0.1 -p " + port + " -t 'edge/v1/demo/")
          .contains("./run-agent ask \"What is the oil temperature of press 3?\"");
      Properties info = new Properties();
      try (var in = Files.newInputStream(runInfo)) {
        info.load(in);
      }
      String askTopic = info.getProperty("ask-topic");
      String reportTopic = info.getProperty("report-topic");

      // A scheduled report (the simulator's first excursion comes later than the first period).
      try (TestMqttClient c = TestMqttClient.connect("tcp://127.0.0.1:" + port)) {
        c.subscribe(reportTopic);
        SensorReport report = Json.read(c.next(reportTopic, WAIT).payload(), SensorReport.class);
        assertThat(report.provenance().source()).isEqualTo(Source.RULES);
      }

      // The MQTT 5 command exactly as the banner prints it (mosquitto_rr waits for the answer).
      Process rr =
          new ProcessBuilder(
                  "mosquitto_rr",
                  "-V",
                  "mqttv5",
                  "-h",
                  "127.0.0.1",
                  "-p",
                  Integer.toString(port),
                  "-t",
                  askTopic,
                  "-e",
                  "operator/answers",
                  "-m",
                  "{\"question\":\"What is the oil temperature of press 3?\"}",
                  "-W",
                  "60")
              .redirectErrorStream(true)
              .start();
      String rrOut = new String(rr.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      assertThat(rr.waitFor()).as(rrOut).isZero();
      Answer answer = Json.read(rrOut.getBytes(StandardCharsets.UTF_8), Answer.class);
      assertThat(answer.answer()).contains("Press 3 oil temperature is");
      assertThat(answer.sensors()).isNotEmpty();

      // ./run-agent ask: the script finds the agent through the run-info file.
      Path script = Path.of("..", "run-agent").toAbsolutePath().normalize();
      ProcessBuilder pb =
          new ProcessBuilder(
                  script.toString(), "--no-build", "ask", "What is the oil temperature of press 3?")
              .redirectErrorStream(true);
      pb.environment().put("EDGESLM_HOME", home.toString());
      pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
      Process ask = pb.start();
      String askOut = new String(ask.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(ask.waitFor()).as(askOut).isZero();
      assertThat(askOut).contains("Press 3 oil temperature is").contains("  source: rules");
    }
  }

  @Test
  void invalidConfiguration_stopsStartUpNamingKeyValueAndRule() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_SITE", "plant/7");
    env.put("EDGESLM_AGENT_BROKER_URL", "tcp://127.0.0.1:1");
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", home.resolve("journal").toString());
    try (AgentProcess agent = AgentProcess.start(env, home)) {
      int code = agent.waitFor(WAIT);
      assertThat(code).as(agent.output()).isEqualTo(78); // EX_CONFIG
      assertThat(agent.output())
          .contains(
              "Invalid configuration edgeslm.agent.site='plant/7': expected 1-64 letters, digits,"
                  + " '.', '_' or '-', starting with a letter or digit (it is an MQTT topic"
                  + " level). Fix it in application.properties, the file named by"
                  + " EDGESLM_CONFIG, or the environment variable EDGESLM_AGENT_SITE.");
    }
  }

  @Test
  void ask_badTimeoutWithNoAgentRunning_isAUsageErrorInOneSentence() throws Exception {
    // No agent runs from this (empty) EDGESLM_HOME: the command line is still checked first.
    Path script = Path.of("..", "run-agent").toAbsolutePath().normalize();
    ProcessBuilder pb = new ProcessBuilder(script.toString(), "ask", "--timeout", "abc", "Hi?");
    pb.environment().put("EDGESLM_HOME", home.toString());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.redirectOutput(home.resolve("ask.out").toFile())
        .redirectError(home.resolve("ask.err").toFile());
    Process ask = pb.start();
    int code = ask.waitFor();
    String err = Files.readString(home.resolve("ask.err"));
    assertThat(code).as(err).isEqualTo(2);
    assertThat(err.lines().toList())
        .containsExactly(
            "run-agent ask: --timeout must be a whole number of seconds from 1 to 3600, got"
                + " 'abc'.");
    assertThat(Files.readString(home.resolve("ask.out"))).isEmpty();

    // A good command line with no agent: exit code 3, naming what to do.
    pb = new ProcessBuilder(script.toString(), "ask", "--timeout", "5", "Hi?");
    pb.environment().put("EDGESLM_HOME", home.toString());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.redirectErrorStream(true);
    Process none = pb.start();
    String out = new String(none.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(none.waitFor()).as(out).isEqualTo(3);
    assertThat(out.strip())
        .startsWith("run-agent ask: no running agent found")
        .endsWith("start one with ./run-agent.");
  }
}
