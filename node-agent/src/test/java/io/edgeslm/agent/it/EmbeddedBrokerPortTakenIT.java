package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Why AgentLauncherAotIT once saw exit 69: it chose the agents' ports with {@code ServerSocket(0)},
 * released them, and the agent bound them seconds later. When anything else takes such a port in
 * between, the embedded broker cannot start and the agent exits 69 (EX_UNAVAILABLE), naming the
 * port. Here the port is held on purpose for the whole start.
 */
class EmbeddedBrokerPortTakenIT {

  @TempDir Path work;

  @Test
  void anEmbeddedBrokerPortTakenBeforeTheAgentBindsIt_exits69NamingThePort() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Map<String, String> env =
          Map.of(
              "EDGESLM_AGENT_BROKER_EMBEDDED_PORT",
              Integer.toString(port),
              "EDGESLM_MANAGEMENT_PORT",
              "0",
              "EDGESLM_AGENT_JOURNAL_DIR",
              work.resolve("journal").toString());
      try (AgentProcess agent = AgentProcess.start(env, work)) {
        assertThat(agent.waitFor(Duration.ofSeconds(180))).as(agent.output()).isEqualTo(69);
        assertThat(agent.output())
            .contains(
                "The EdgeSLM node agent cannot start: The embedded MQTT broker could not start on 127.0.0.1:"
                    + port);
      }
    }
  }
}
