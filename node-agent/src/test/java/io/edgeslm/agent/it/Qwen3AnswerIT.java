package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.SyntheticModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent answers an operator's question over MQTT with a Qwen3-architecture model on
 * the llama-server that scripts/ensure-llama-server.sh built from the pinned llama.cpp: the
 * architecture the bundled binding (b4916) cannot load.
 */
class Qwen3AnswerIT {
  private static final Duration WAIT = Duration.ofSeconds(180);
  private static MqttBroker broker;
  @TempDir Path work;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = MqttBroker.privateMosquitto();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void operatorQuestion_isAnsweredByAQwen3Model_onLlamaServer_overMqtt() throws Exception {
    Path model = work.resolve("qwen3.gguf");
    SyntheticModel.of(ModelShape.tiny(ModelShape.Architecture.QWEN3), GgmlType.Q8_0, 7)
        .write(model);
    NodeTopics t = Topics.node("qwen", "qwen-node");
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_URL", broker.url());
    env.put("EDGESLM_AGENT_SITE", "qwen");
    env.put("EDGESLM_AGENT_NODE_ID", "qwen-node");
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal").toString());
    env.put("EDGESLM_AGENT_MODEL_PATH", model.toString());
    env.put("EDGESLM_AGENT_MODEL_ENGINE", "llama-server");
    env.put("EDGESLM_AGENT_MODEL_NAME", "qwen3-synthetic");
    env.put("EDGESLM_AGENT_MODEL_THREADS", "2");
    env.put("EDGESLM_AGENT_MODEL_CONTEXT", "2048");
    env.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "24");
    env.put("EDGESLM_AGENT_REPORT_INTERVAL", "1h");
    env.put("EDGESLM_AGENT_SENSORS_OIL_TOPIC", "qwen/press3/oil");
    env.put("EDGESLM_AGENT_SENSORS_OIL_UNIT", "°C");
    env.put("EDGESLM_AGENT_SENSORS_OIL_ALIAS", "Press 3 oil temperature");
    env.put("EDGESLM_AGENT_SENSORS_OIL_NORMAL_MIN", "40");
    env.put("EDGESLM_AGENT_SENSORS_OIL_NORMAL_MAX", "80");
    try (TestMqttClient c = TestMqttClient.connect(broker.url());
        AgentProcess agent = AgentProcess.start(env, work)) {
      c.subscribe("operator/answers");
      c.subscribe(t.status());
      // The agent subscribes to questions once connected; its retained status says when.
      while (Json.read(c.next(t.status(), WAIT).payload(), io.edgeslm.protocol.NodeStatus.class)
              .state()
          != io.edgeslm.protocol.NodeState.ONLINE) {
        Thread.onSpinWait();
      }
      c.publish("qwen/press3/oil", "71.2");
      byte[] correlation = UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
      long until = System.nanoTime() + WAIT.toNanos();
      Answer answer = null;
      while (answer == null && System.nanoTime() < until) {
        c.ask(
            t.ask(),
            "{\"question\":\"What is the oil temperature of press 3?\"}"
                .getBytes(StandardCharsets.UTF_8),
            "operator/answers",
            correlation,
            300L);
        TestMqttClient.Received r;
        try {
          r = c.next("operator/answers", Duration.ofSeconds(20));
        } catch (AssertionError noAnswerYet) {
          continue;
        }
        if (r.correlation().isPresent()
            && Arrays.equals(r.correlation().get(), correlation)
            && Json.read(r.payload(), Reply.class) instanceof Answer a) {
          if (a.source() == Source.MODEL) {
            answer = a;
          } else {
            Thread.sleep(500); // still loading: the rules answered
          }
        }
      }
      assertThat(answer).as(agent.output()).isNotNull();
      assertThat(answer.model().name()).isEqualTo("qwen3-synthetic");
      assertThat(answer.answer()).isNotBlank().doesNotContain("<think>");
      assertThat(answer.sensors()).extracting(s -> s.sensor()).containsExactly("oil");
      assertThat(agent.output()).contains("Inference engine: llama-server ");
    }
  }
}
