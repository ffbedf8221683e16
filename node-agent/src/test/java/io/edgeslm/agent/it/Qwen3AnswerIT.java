package io.edgeslm.agent.it;

import static io.edgeslm.agent.it.LlamaServerAgent.ENGINE;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBrokerExtension;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent answers an operator's question over MQTT with a Qwen3-architecture model on
 * the llama-server that scripts/ensure-llama-server.sh built from the pinned llama.cpp: the
 * architecture the bundled binding (b4916) cannot load.
 */
class Qwen3AnswerIT {
  @RegisterExtension
  static final MqttBrokerExtension BROKER =
      MqttBrokerExtension.privateMosquitto(MosquittoConfig.defaults());

  @TempDir Path work;

  @Test
  void operatorQuestion_isAnsweredByAQwen3Model_onLlamaServer_overMqtt() throws Exception {
    Path model = LlamaServerAgent.qwen3Model(work.resolve("qwen3.gguf"), 7);
    NodeTopics t = Topics.node("qwen", "qwen-node");
    String brokerUrl = BROKER.broker().url();
    int managementPort = AgentProcess.freePort();
    Map<String, String> env =
        LlamaServerAgent.env(
            brokerUrl, "qwen", "qwen-node", managementPort, work, model, "qwen3-synthetic");
    env.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "24");
    try (TestMqttClient c = TestMqttClient.connect(brokerUrl);
        AgentProcess agent = AgentProcess.start(env, work)) {
      LlamaServerAgent.awaitOnline(c, t);
      c.publish(LlamaServerAgent.oilTopic("qwen"), "71.2");
      Answer answer =
          LlamaServerAgent.askUntilTheModelAnswers(c, t, "What is the oil temperature of press 3?");
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
      Answer next =
          LlamaServerAgent.askUntilTheModelAnswers(
              c, t, "Is the oil of press 3 in its normal range?");
      assertThat(next.source()).isEqualTo(Source.MODEL);
      long until = System.nanoTime() + LlamaServerAgent.WAIT.toNanos();
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
}
