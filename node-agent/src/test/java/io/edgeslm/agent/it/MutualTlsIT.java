package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.update.TestBundles;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdateResult;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.TestPki;
import io.edgeslm.testkit.TlsClientIdentity;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
  void clientCertificateAndPerNodeAcl_agentConnectsAnnouncesAnswers_andItsUpdateLinkToo()
      throws Exception {
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
      // Updates on: the update link is a second connection with the same certificate.
      Path releaseKey = work.resolve("release.pub");
      new TestBundles().writePublicKey(releaseKey);
      env.put("EDGESLM_AGENT_UPDATES_PINNED_KEYS", releaseKey.toString());
      env.put("EDGESLM_AGENT_UPDATES_DATA_DIR", work.resolve("data").toString());
      env.put("EDGESLM_AGENT_MODEL_NAME", TestBundles.MODEL);
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

        // The banner's mosquitto_rr line works on this TLS broker once CLIENT.crt/.key name a
        // client the ACL lets ask (here the operator); it offers no ./run-agent ask, which speaks
        // plain MQTT only.
        org.awaitility.Awaitility.await()
            .atMost(WAIT)
            .until(() -> agent.output().contains("is running ===="));
        String rr =
            agent
                .output()
                .lines()
                .filter(l -> l.startsWith("  mosquitto_rr "))
                .findFirst()
                .orElseThrow()
                .strip();
        assertThat(rr).contains(" --cafile " + pki.caCertificate() + " --cert CLIENT.crt");
        assertThat(agent.output())
            .doesNotContain("./run-agent ask \"")
            .contains(
                "(./run-agent ask speaks plain MQTT without credentials only: use the commands"
                    + " above.)");
        Process p =
            new ProcessBuilder(
                    "bash",
                    "-c",
                    rr.replace("CLIENT.crt", operator.certificate().toString())
                            .replace("CLIENT.key", operator.privateKey().toString())
                        + " -W 60")
                .redirectErrorStream(true)
                .start();
        String rrOut = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(rrOut).isZero();
        assertThat(Json.read(rrOut.strip().getBytes(StandardCharsets.UTF_8), Answer.class).answer())
            .isEqualTo("This node has no sensor readings yet.");

        // The update link got through TLS and the ACL: a rollback order is answered (this node
        // has no model, so it is refused, naming none).
        ops.subscribe(t.updateResult());
        UpdateCommand rollback =
            new UpdateCommand(
                Protocol.SCHEMA_VERSION,
                "cmd-tls-1",
                CommandAction.ROLLBACK,
                null,
                null,
                Instant.now(),
                null);
        UpdateResult r = null;
        long until = System.nanoTime() + WAIT.toNanos();
        while (r == null && System.nanoTime() < until) {
          // Repeated until the link has subscribed (it connects in the background); the command
          // id makes every repeat after the first a no-op.
          ops.publish(t.updateCommand(), Json.write(rollback));
          r = nextResult(ops, t);
        }
        assertThat(r).as(agent.output()).isNotNull();
        assertThat(r.commandId()).isEqualTo("cmd-tls-1");
        assertThat(r.outcome()).isEqualTo(UpdateOutcome.REJECTED);
        assertThat(r.reasonCode()).isEqualTo(ReasonCode.NO_PREVIOUS_MODEL.code());
        assertThat(r.model()).isNull();
      }
    }
  }

  private static UpdateResult nextResult(TestMqttClient c, NodeTopics t) throws Exception {
    try {
      return Json.read(
          c.next(t.updateResult(), Duration.ofSeconds(2)).payload(), UpdateResult.class);
    } catch (AssertionError noneYet) {
      return null;
    }
  }
}
