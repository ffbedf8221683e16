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
    int managementPort = AgentProcess.freePort();
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(managementPort));
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
      Answer answer = askUntilTheModelAnswers(c, t, "What is the oil temperature of press 3?");
      assertThat(answer).as(agent.output()).isNotNull();
      assertThat(answer.model().name()).isEqualTo("qwen3-synthetic");
      assertThat(answer.answer()).isNotBlank().doesNotContain("<think>");
      assertThat(answer.sensors()).extracting(s -> s.sensor()).containsExactly("oil");
      assertThat(agent.output()).contains("Inference engine: llama-server ");

      // llama-server's own /metrics, folded into the agent's management interface.
      ManagementEndpoint management = new ManagementEndpoint(managementPort);
      Map<String, Double> after = management.metrics();
      assertThat(after.keySet())
          .as("llama-server's samples in the agent's /q/metrics")
          .contains(
              ENGINE + "prompt_tokens_total",
              ENGINE + "prompt_tokens_cached_total",
              ENGINE + "prompt_seconds_total",
              ENGINE + "tokens_predicted_total",
              ENGINE + "tokens_predicted_seconds_total",
              ENGINE + "n_decode_total",
              ENGINE + "prompt_tokens_seconds",
              ENGINE + "predicted_tokens_seconds",
              ENGINE + "requests_processing",
              ENGINE + "requests_deferred",
              ENGINE + "n_busy_slots_per_decode");
      assertThat(after.get(ENGINE + "prompt_tokens_total")).isGreaterThan(0.0);
      assertThat(after.get(ENGINE + "tokens_predicted_total")).isGreaterThan(0.0);
      // They follow the traffic: the next answer raises the server's counters as the agent shows
      // them (re-read from the server at most every 5 s).
      Answer next = askUntilTheModelAnswers(c, t, "Is the oil of press 3 in its normal range?");
      assertThat(next.source()).isEqualTo(Source.MODEL);
      long until = System.nanoTime() + WAIT.toNanos();
      Map<String, Double> later = management.metrics();
      while (System.nanoTime() < until
          && !(later.get(ENGINE + "prompt_tokens_total") > after.get(ENGINE + "prompt_tokens_total")
              && later.get(ENGINE + "tokens_predicted_total")
                  > after.get(ENGINE + "tokens_predicted_total"))) {
        Thread.sleep(500);
        later = management.metrics();
      }
      assertThat(later.get(ENGINE + "prompt_tokens_total"))
          .isGreaterThan(after.get(ENGINE + "prompt_tokens_total"));
      assertThat(later.get(ENGINE + "tokens_predicted_total"))
          .isGreaterThan(after.get(ENGINE + "tokens_predicted_total"));
      assertThat(later.get(ENGINE + "n_decode_total"))
          .isGreaterThan(after.get(ENGINE + "n_decode_total"));
    }
  }

  /** The agent's names of llama-server's {@code llamacpp:*} samples. */
  static final String ENGINE = "edgeslm_agent_engine_llamacpp_";

  /**
   * Asks until the model answers (the rules answer while it loads) and returns that answer; null
   * after {@link #WAIT}. A question is asked again after a rules answer, or after 20 s without one.
   */
  static Answer askUntilTheModelAnswers(TestMqttClient c, NodeTopics t, String question)
      throws Exception {
    byte[] correlation = UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
    long until = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < until) {
      c.ask(
          t.ask(),
          ("{\"question\":\"" + question + "\"}").getBytes(StandardCharsets.UTF_8),
          "operator/answers",
          correlation,
          300L);
      long retry = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      Answer a = null;
      while (a == null && System.nanoTime() < retry) {
        TestMqttClient.Received r;
        try {
          r = c.next("operator/answers", Duration.ofSeconds(20));
        } catch (AssertionError noAnswerYet) {
          break;
        }
        if (r.correlation().isPresent()
            && Arrays.equals(r.correlation().get(), correlation)
            && Json.read(r.payload(), Reply.class) instanceof Answer answer) {
          a = answer; // parts streamed before it are skipped
        }
      }
      if (a != null && a.source() == Source.MODEL) {
        return a;
      }
      if (a != null) {
        Thread.sleep(500); // still loading: the rules answered
      }
    }
    return null;
  }
}
