package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent ({@code target/quarkus-app}, the gateway artifact) at start-up: a bad value,
 * or no broker configured, stops it with exit code 78 and one line naming the key, the value and
 * what to do. The gateway artifact has no embedded broker; the README's Run command with the demo
 * broker is {@code RunAgentIT} in the demo-broker module.
 */
class RunCommandIT {

  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path home;

  /**
   * Starts the packaged agent with {@code env} (plus a free management port and a journal under the
   * test's home), expects it to stop with exit 78 (EX_CONFIG) and returns what it printed.
   */
  private String configRefusal(Map<String, String> env) throws Exception {
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", home.resolve("journal").toString());
    try (AgentProcess agent = AgentProcess.start(env, home)) {
      int code = agent.waitFor(WAIT);
      assertThat(code).as(agent.output()).isEqualTo(78); // EX_CONFIG
      return agent.output();
    }
  }

  @Test
  void noBrokerConfigured_theGatewayArtifactHasNoEmbeddedBroker_exits78NamingKeyAndWhatToDo()
      throws Exception {
    Map<String, String> env = new HashMap<>();
    assertThat(configRefusal(env))
        .contains(
            "The EdgeSLM node agent cannot start: Invalid configuration"
                + " edgeslm.agent.broker.url='': no broker is configured, which asks for the"
                + " embedded MQTT broker, and this installation has none (the gateway artifact"
                + " leaves it out; it comes with ./run-agent). Set edgeslm.agent.broker.url to"
                + " your MQTT broker (tcp://host:1883 or ssl://host:8883) in"
                + " application.properties, the file named by EDGESLM_CONFIG, or the environment"
                + " variable EDGESLM_AGENT_BROKER_URL; or try the agent with its demo broker by"
                + " running ./run-agent in the repository.")
        .doesNotContain("Exception");
  }

  @Test
  void invalidConfiguration_stopsStartUpNamingKeyValueAndRule() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_SITE", "plant/7");
    env.put("EDGESLM_AGENT_BROKER_URL", "tcp://127.0.0.1:1");
    assertThat(configRefusal(env))
        .contains(
            "Invalid configuration edgeslm.agent.site='plant/7': expected 1-64 letters, digits,"
                + " '.', '_' or '-', starting with a letter or digit (it is an MQTT topic"
                + " level). Fix it in application.properties, the file named by"
                + " EDGESLM_CONFIG, or the environment variable EDGESLM_AGENT_SITE.");
  }

  @Test
  void fleetBrokerOnTheLocalBrokersListener_stopsStartUpNamingTheFleetKey() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_URL", "tcp://127.0.0.1:1");
    env.put("EDGESLM_AGENT_FLEET_BROKER_URL", "tcp://127.0.0.1:1");
    assertThat(configRefusal(env))
        .contains(
            "The EdgeSLM node agent cannot start: Invalid configuration"
                + " edgeslm.agent.fleet.broker.url='tcp://127.0.0.1:1': expected a broker other"
                + " than broker.url (leave fleet.broker.url unset to carry everything on one"
                + " connection). Fix it in application.properties, the file named by"
                + " EDGESLM_CONFIG, or the environment variable EDGESLM_AGENT_FLEET_BROKER_URL.")
        .doesNotContain("Exception");
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
