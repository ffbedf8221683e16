package io.edgeslm.demobroker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Why AgentLauncherAotIT once saw exit 69: it chose the agents' ports with {@code ServerSocket(0)},
 * released them, and the agent bound them seconds later. When anything else takes such a port in
 * between, the embedded broker cannot start and the agent exits 69 (EX_UNAVAILABLE), naming the
 * port. Here the port is held on purpose for the whole start of {@code ./run-agent --no-build} (the
 * only way to run the agent with its embedded broker, which this module provides).
 */
class EmbeddedBrokerPortTakenIT {

  @TempDir Path home;

  @Test
  void anEmbeddedBrokerPortTakenBeforeTheAgentBindsIt_exits69NamingThePort() throws Exception {
    Path runAgent = Path.of("..", "run-agent").toAbsolutePath().normalize();
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Path log = home.resolve("agent.log");
      ProcessBuilder pb =
          new ProcessBuilder(runAgent.toString(), "--no-build")
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      pb.environment().put("EDGESLM_HOME", home.toString());
      pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
      for (String key :
          List.of(
              "EDGESLM_AGENT_BROKER_URL", "EDGESLM_CONFIG", "EDGESLM_AGENT_BROKER_EMBEDDED_JARS")) {
        pb.environment().remove(key);
      }
      pb.environment().put("EDGESLM_AGENT_BROKER_EMBEDDED_PORT", Integer.toString(port));
      pb.environment().put("EDGESLM_MANAGEMENT_PORT", "0");
      Process agent = pb.start();
      try {
        boolean ended = agent.waitFor(180, TimeUnit.SECONDS);
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(ended).as(output).isTrue();
        assertThat(agent.exitValue()).as(output).isEqualTo(69);
        assertThat(output)
            .contains(
                "The EdgeSLM node agent cannot start: The embedded MQTT broker could not start on 127.0.0.1:"
                    + port);
      } finally {
        agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
