package io.edgeslm.agent.it;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.Source;
import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.SyntheticModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The packaged agent on the {@code llama-server} engine with a tiny synthetic Qwen3 model, as the
 * llama-server ITs run it: its environment, waiting until it is online, and asking until the model
 * (not the rules, while it loads) answers. Answers go to {@link #ANSWERS}; the one sensor, {@code
 * oil} (Press 3 oil temperature, normal 40–80 °C), is read from {@code {site}/press3/oil}.
 */
final class LlamaServerAgent {
  static final Duration WAIT = Duration.ofSeconds(180);

  /** The reply topic of the questions asked here. */
  static final String ANSWERS = "operator/answers";

  /** The agent's names of llama-server's {@code llamacpp:*} samples. */
  static final String ENGINE = "edgeslm_agent_engine_llamacpp_";

  private LlamaServerAgent() {}

  /** Writes a tiny synthetic Qwen3 model (Q8_0) made from {@code seed} to {@code file}. */
  static Path qwen3Model(Path file, long seed) throws IOException {
    SyntheticModel.of(ModelShape.tiny(ModelShape.Architecture.QWEN3), GgmlType.Q8_0, seed)
        .write(file);
    return file;
  }

  /** The sensor topic {@link #env} configures for {@code site}. */
  static String oilTopic(String site) {
    return site + "/press3/oil";
  }

  /**
   * The agent's environment: broker, identity, management port, a journal in {@code work}, the
   * model on llama-server (2 threads, 2048 context), reports hourly and the oil sensor. Callers add
   * what their test needs (answer tokens, a wrapped server binary, deadlines).
   */
  static Map<String, String> env(
      String brokerUrl,
      String site,
      String node,
      int managementPort,
      Path work,
      Path model,
      String modelName) {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_URL", brokerUrl);
    env.put("EDGESLM_AGENT_SITE", site);
    env.put("EDGESLM_AGENT_NODE_ID", node);
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal").toString());
    env.put("EDGESLM_AGENT_MODEL_PATH", model.toString());
    env.put("EDGESLM_AGENT_MODEL_ENGINE", "llama-server");
    env.put("EDGESLM_AGENT_MODEL_NAME", modelName);
    env.put("EDGESLM_AGENT_MODEL_THREADS", "2");
    env.put("EDGESLM_AGENT_MODEL_CONTEXT", "2048");
    env.put("EDGESLM_AGENT_REPORT_INTERVAL", "1h");
    env.put("EDGESLM_AGENT_SENSORS_OIL_TOPIC", oilTopic(site));
    env.put("EDGESLM_AGENT_SENSORS_OIL_UNIT", "°C");
    env.put("EDGESLM_AGENT_SENSORS_OIL_ALIAS", "Press 3 oil temperature");
    env.put("EDGESLM_AGENT_SENSORS_OIL_NORMAL_MIN", "40");
    env.put("EDGESLM_AGENT_SENSORS_OIL_NORMAL_MAX", "80");
    return env;
  }

  /**
   * Subscribes {@code c} to {@link #ANSWERS} and the node's status, and returns once the node's
   * status says online: the agent subscribes to questions once connected, and its retained status
   * says when. Fails after {@link #WAIT} without a status.
   */
  static void awaitOnline(TestMqttClient c, NodeTopics t) throws Exception {
    c.subscribe(ANSWERS);
    c.subscribe(t.status());
    while (Json.read(c.next(t.status(), WAIT).payload(), NodeStatus.class).state()
        != NodeState.ONLINE) {
      Thread.onSpinWait();
    }
  }

  /**
   * Asks until the model answers (the rules answer while it loads) and returns that answer; null
   * after {@link #WAIT}. A question is asked again after a rules answer, or after 20 s without one.
   */
  static Answer askUntilTheModelAnswers(TestMqttClient c, NodeTopics t, String question)
      throws Exception {
    byte[] correlation = UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
    long until = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < until) {
      ask(c, t, question, correlation);
      long retry = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      Answer a = null;
      while (a == null && System.nanoTime() < retry) {
        try {
          a = finalAnswer(c.next(ANSWERS, Duration.ofSeconds(20)), correlation);
        } catch (AssertionError noAnswerYet) {
          break;
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

  /**
   * Asks once and returns the answer (final reply) to it, whoever gave it; fails after {@link
   * #WAIT}.
   */
  static Answer askOnce(TestMqttClient c, NodeTopics t, String question) throws Exception {
    byte[] correlation = UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
    ask(c, t, question, correlation);
    long until = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < until) {
      Answer a = finalAnswer(c.next(ANSWERS, WAIT), correlation);
      if (a != null) {
        return a;
      }
    }
    throw new AssertionError("No answer to '" + question + "' within " + WAIT);
  }

  private static void ask(TestMqttClient c, NodeTopics t, String question, byte[] correlation)
      throws Exception {
    c.ask(
        t.ask(),
        ("{\"question\":\"" + question + "\"}").getBytes(StandardCharsets.UTF_8),
        ANSWERS,
        correlation,
        300L);
  }

  /** {@code r} as the final answer to the question with {@code correlation}; null for any other. */
  private static Answer finalAnswer(TestMqttClient.Received r, byte[] correlation)
      throws Exception {
    if (r.correlation().isPresent()
        && Arrays.equals(r.correlation().get(), correlation)
        && Json.read(r.payload(), Reply.class) instanceof Answer answer) {
      return answer; // parts streamed before it are skipped
    }
    return null;
  }
}
