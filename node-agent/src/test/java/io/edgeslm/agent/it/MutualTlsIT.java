package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.TestPki;
import io.edgeslm.testkit.TlsClientIdentity;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production shape of the broker link: Mosquitto requires a client certificate, takes the
 * certificate's CN as the user name, and a per-node ACL lets the node use only its own topics. The
 * agent connects with its PEM certificate and key, announces itself and answers a question.
 */
class MutualTlsIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path work;

  @Test
  void clientCertificateAndPerNodeAcl_agentConnectsAnnouncesAndAnswers() throws Exception {
    TestPki pki = TestPki.create(work.resolve("pki"));
    TlsClientIdentity node = pki.issueClient("gw-0042");
    TlsClientIdentity operator = pki.issueClient("operator");
    MosquittoConfig config =
        MosquittoConfig.defaults()
            .withTls(pki.mosquittoTls(true, true))
            .withAcl(
                "user operator",
                "topic readwrite #",
                "pattern readwrite edge/v1/+/%u/#",
                "pattern write operator/answers/#");
    try (MqttBroker broker = MqttBroker.privateMosquitto(config)) {
      Map<String, String> env = new HashMap<>();
      env.put("EDGESLM_AGENT_BROKER_URL", broker.url());
      env.put("EDGESLM_AGENT_NODE_ID", "gw-0042");
      env.put("EDGESLM_AGENT_SITE", "plant-7");
      env.put("EDGESLM_AGENT_BROKER_TLS_CERTIFICATE", node.certificate().toString());
      env.put("EDGESLM_AGENT_BROKER_TLS_PRIVATE_KEY", node.privateKey().toString());
      env.put("EDGESLM_AGENT_BROKER_TLS_CA", pki.caCertificate().toString());
      env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
      env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal").toString());
      NodeTopics t = Topics.node("plant-7", "gw-0042");
      try (TestMqttClient ops =
              TestMqttClient.connect(broker.url(), "operator", true, operator.socketFactory());
          AgentProcess agent = AgentProcess.start(env, work)) {
        assertThat(broker.url()).startsWith("ssl://");
        ops.subscribe(t.status());
        ops.subscribe("operator/answers/tls");
        NodeStatus status = Json.read(ops.next(t.status(), WAIT).payload(), NodeStatus.class);
        assertThat(status.state()).as(agent.output()).isEqualTo(NodeState.ONLINE);
        ops.ask(
            t.ask(),
            "{\"question\":\"What are the current sensor readings?\"}"
                .getBytes(StandardCharsets.UTF_8),
            "operator/answers/tls",
            new byte[] {9},
            60L);
        Answer a = Json.read(ops.next("operator/answers/tls", WAIT).payload(), Answer.class);
        assertThat(a.answer()).isEqualTo("This node has no sensor readings yet.");
      }
    }
  }
}
