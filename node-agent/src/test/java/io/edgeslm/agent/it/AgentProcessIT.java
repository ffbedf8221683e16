package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.SyntheticModel;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent as a process against a private Mosquitto: the delayed last will after a crash,
 * a clean offline on shutdown, first-connect retry while the broker is down, and model mode with
 * real llama.cpp on the test kit's synthetic GGUF (streamed answer, model-written report).
 */
class AgentProcessIT {

  private static final Duration WAIT = Duration.ofSeconds(120);
  private static MqttBroker broker;

  @TempDir Path work;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults());
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  private Map<String, String> env(String node) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_URL", broker.url());
    env.put("EDGESLM_AGENT_SITE", "proc");
    env.put("EDGESLM_AGENT_NODE_ID", node);
    env.put("EDGESLM_AGENT_BROKER_WILL_DELAY", "1s");
    env.put("EDGESLM_AGENT_BROKER_MAX_RECONNECT_DELAY", "1s");
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal-" + node).toString());
    return env;
  }

  private static NodeStatus nextStatus(TestMqttClient c, NodeTopics t) throws Exception {
    return Json.read(c.next(t.status(), WAIT).payload(), NodeStatus.class);
  }

  @Test
  void crash_brokerPublishesDelayedWillOffline_cleanStop_publishesShutdown() throws Exception {
    NodeTopics t = Topics.node("proc", "will-node");
    try (TestMqttClient c = TestMqttClient.connect(broker.url())) {
      c.subscribe(t.status());
      AgentProcess agent = AgentProcess.start(env("will-node"), work);
      try {
        assertThat(nextStatus(c, t).state()).as(agent.output()).isEqualTo(NodeState.ONLINE);
        agent.kill();
        NodeStatus will = nextStatus(c, t);
        assertThat(will.state()).isEqualTo(NodeState.OFFLINE);
        assertThat(will.reason()).isEqualTo("connection lost");
      } finally {
        agent.close();
      }

      try (AgentProcess again = AgentProcess.start(env("will-node"), work)) {
        assertThat(nextStatus(c, t).state()).isEqualTo(NodeState.ONLINE);
        // The JVM ends with 128 + SIGTERM after a clean shutdown (the unit's SuccessExitStatus).
        assertThat(again.stop()).as(again.output()).isEqualTo(143);
        NodeStatus bye = nextStatus(c, t);
        assertThat(bye.state()).isEqualTo(NodeState.OFFLINE);
        assertThat(bye.reason()).isEqualTo("shutdown");
      }
    }
  }

  @Test
  void brokerDownAtStart_agentKeepsRetryingAndConnectsWhenItComesUp() throws Exception {
    NodeTopics t = Topics.node("proc", "late-node");
    broker.stop();
    try (AgentProcess agent = AgentProcess.start(env("late-node"), work)) {
      await().atMost(WAIT).until(() -> agent.output().contains("next attempt in"));
      assertThat(agent.isAlive()).isTrue();
      broker.start();
      try (TestMqttClient c = TestMqttClient.connect(broker.url())) {
        c.subscribe(t.status());
        assertThat(nextStatus(c, t).state()).as(agent.output()).isEqualTo(NodeState.ONLINE);
      }
    } finally {
      if (!brokerUp()) {
        broker.start();
      }
    }
  }

  private static boolean brokerUp() {
    try (java.net.Socket s = new java.net.Socket(broker.host(), broker.port())) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void modelMode_syntheticGguf_streamsAnswerAndWritesReportFromTheModel() throws Exception {
    SyntheticModel m = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, 42);
    Path gguf = m.write(work.resolve(m.suggestedFileName()));
    String digest =
        "sha256:"
            + HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(gguf)));
    NodeTopics t = Topics.node("proc", "model-node");
    Map<String, String> env = env("model-node");
    env.put("EDGESLM_AGENT_MODEL_PATH", gguf.toString());
    env.put("EDGESLM_AGENT_MODEL_NAME", "edgeslm-tiny");
    env.put("EDGESLM_AGENT_MODEL_VERSION", "3");
    env.put("EDGESLM_AGENT_MODEL_THREADS", "2");
    env.put("EDGESLM_AGENT_MODEL_CONTEXT", "2048");
    env.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "40");
    // Fixed sampling so the synthetic model's (random-weight) text is the same on every run.
    env.put("EDGESLM_AGENT_MODEL_TEMPERATURE", "0.8");
    env.put("EDGESLM_AGENT_MODEL_SEED", "1");
    // Random weights ramble: give the grammar room to close the JSON (as inference's TasksIT).
    env.put("EDGESLM_AGENT_MODEL_REPORT_TOKENS", "1024");
    env.put("EDGESLM_AGENT_REPORT_INTERVAL", "1h");
    env.put("EDGESLM_AGENT_REPORT_ANOMALY_DEBOUNCE", "100ms");
    env.put("EDGESLM_AGENT_SENSORS__PRESS3_OIL_TEMP__TOPIC", "proc/press3/oil_temp");
    env.put("EDGESLM_AGENT_SENSORS__PRESS3_OIL_TEMP__UNIT", "°C");
    env.put("EDGESLM_AGENT_SENSORS__PRESS3_OIL_TEMP__ALIAS", "Press 3 oil temperature");
    env.put("EDGESLM_AGENT_SENSORS__PRESS3_OIL_TEMP__NORMAL_MIN", "40");
    env.put("EDGESLM_AGENT_SENSORS__PRESS3_OIL_TEMP__NORMAL_MAX", "80");
    try (TestMqttClient c = TestMqttClient.connect(broker.url());
        AgentProcess agent = AgentProcess.start(env, work)) {
      c.subscribe(t.birth());
      c.subscribe(t.report());
      c.subscribe("operator/proc/answers");
      // The first birth may come before the model has loaded; a second follows when it is active.
      NodeBirth birth = Json.read(c.next(t.birth(), WAIT).payload(), NodeBirth.class);
      while (birth.activeModel() == null) {
        birth = Json.read(c.next(t.birth(), WAIT).payload(), NodeBirth.class);
      }
      assertThat(birth.activeModel().name()).as(agent.output()).isEqualTo("edgeslm-tiny");
      assertThat(birth.activeModel().version()).isEqualTo(3);
      assertThat(birth.activeModel().digest()).isEqualTo(digest);

      for (double v : new double[] {70.1, 70.4, 70.2, 70.8, 71.0, 70.9, 71.2, 70.7, 71.1}) {
        c.publish("proc/press3/oil_temp", Double.toString(v));
      }
      c.ask(
          t.ask(),
          "{\"question\":\"What is the oil temperature of press 3?\",\"stream\":true}"
              .getBytes(StandardCharsets.UTF_8),
          "operator/proc/answers",
          new byte[] {42},
          120L);
      List<AnswerPart> parts = new ArrayList<>();
      Answer answer = null;
      while (answer == null) {
        Reply r = Json.read(c.next("operator/proc/answers", WAIT).payload(), Reply.class);
        switch (r) {
          case AnswerPart p -> parts.add(p);
          case Answer a -> answer = a;
          default -> throw new AssertionError("unexpected reply " + r + "\n" + agent.output());
        }
      }
      assertThat(answer.source()).as(agent.output()).isEqualTo(Source.MODEL);
      assertThat(answer.model().digest()).isEqualTo(digest);
      assertThat(answer.timings().tokens()).isPositive();
      assertThat(answer.timings().firstTokenMs()).isNotNull();
      assertThat(parts).isNotEmpty();
      assertThat(parts).extracting(AnswerPart::seq).isSorted();
      // Environment variables cannot spell '_' inside a quoted map key: SmallRye reads
      // SENSORS__PRESS3_OIL_TEMP__ as the sensor "press3.oil.temp" (docs/node-agent.md).
      assertThat(answer.sensors()).extracting(s -> s.sensor()).contains("press3.oil.temp");

      // An anomaly: the model phrases the report under the published schema.
      c.publish("proc/press3/oil_temp", "96.5");
      SensorReport report = Json.read(c.next(t.report(), WAIT).payload(), SensorReport.class);
      JsonSchema schema;
      try (InputStream in =
          Protocol.class.getClassLoader().getResourceAsStream(Protocol.SENSOR_REPORT_SCHEMA)) {
        schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(in);
      }
      assertThat(schema.validate(Json.mapper().valueToTree(report.content()))).isEmpty();
      assertThat(report.anomalies())
          .anySatisfy(a -> assertThat(a.sensor()).isEqualTo("press3.oil.temp"));
      assertThat(report.provenance().source()).as(agent.output()).isEqualTo(Source.MODEL);
      assertThat(report.provenance().model().digest()).isEqualTo(digest);
    }
  }
}
