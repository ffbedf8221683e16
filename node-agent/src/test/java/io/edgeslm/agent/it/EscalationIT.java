package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.SyntheticModel;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Escalation with real parts: packaged agents as processes on a private Mosquitto, models on the
 * pinned llama-server (synthetic GGUF), a real llama-server as the plant's OpenAI-compatible
 * endpoint behind a recording relay, and a {@code #} subscriber that sees everything the broker
 * carries. Node "small" has two sensors: {@code press3.oil_temp}, which its allow-list lets go
 * along, and {@code recipe.secret_mix} (value {@value #SECRET}), which it does not.
 */
class EscalationIT {

  private static final Duration WAIT = Duration.ofSeconds(180);
  private static final String SITE = "esc";
  private static final String OIL_TOPIC = "esc/press3/oil_temp";
  private static final String SECRET_TOPIC = "esc/recipe/secret_mix";
  private static final String SECRET = "4242.5";
  private static final String REPLIES = "operator/esc/answers";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path work;

  // ---- the parts ----

  private Path gguf(String name) throws IOException {
    SyntheticModel m = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, 42);
    Path dir = Files.createDirectories(work.resolve("model-" + name));
    return m.write(dir.resolve(m.suggestedFileName()));
  }

  private static String digest(Path file) throws Exception {
    return "sha256:"
        + HexFormat.of()
            .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  /** The agent's configuration file (sensor ids with '_' cannot be spelled in the environment). */
  private Map<String, String> agent(
      MqttBroker broker, String node, boolean sensors, Map<String, String> extra)
      throws IOException {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("edgeslm.agent.broker.url", broker.url());
    p.put("edgeslm.agent.site", SITE);
    p.put("edgeslm.agent.node-id", node);
    p.put("edgeslm.agent.broker.will-delay", "1s");
    p.put("edgeslm.agent.broker.max-reconnect-delay", "1s");
    p.put("edgeslm.agent.journal.dir", work.resolve("journal-" + node).toString());
    p.put("edgeslm.agent.demo.simulator", "off");
    p.put("edgeslm.agent.report.interval", "1h");
    p.put("edgeslm.agent.health.interval", "1h");
    if (sensors) {
      sensor(p, "press3.oil_temp", OIL_TOPIC, "Press 3 oil temperature", "C", 40, 80);
      sensor(p, "recipe.secret_mix", SECRET_TOPIC, "Recipe secret mix", "g", 0, 10000);
    }
    extra.forEach((k, v) -> p.put("edgeslm.agent." + k, v));
    StringBuilder text = new StringBuilder();
    p.forEach((k, v) -> text.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
    Path file = work.resolve(node + ".properties");
    Files.writeString(file, text, StandardCharsets.ISO_8859_1);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("EDGESLM_CONFIG", file.toString());
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
    env.put("EDGESLM_HOME", work.resolve("home-" + node).toString());
    return env;
  }

  private static void sensor(
      Map<String, String> p, String id, String topic, String alias, String unit, int min, int max) {
    String k = "edgeslm.agent.sensors.\"" + id + "\".";
    p.put(k + "topic", topic);
    p.put(k + "alias", alias);
    p.put(k + "unit", unit);
    p.put(k + "normal-min", Integer.toString(min));
    p.put(k + "normal-max", Integer.toString(max));
  }

  /** Model settings for a node that runs the synthetic model on llama-server. */
  private Map<String, String> model(Path gguf, String name, int answerTokens) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("model.path", gguf.toString());
    m.put("model.name", name);
    m.put("model.engine", "llama-server");
    m.put("model.threads", "2");
    m.put("model.context", "2048");
    m.put("model.answer-tokens", Integer.toString(answerTokens));
    m.put("model.temperature", "0.8");
    m.put("model.seed", "1");
    return m;
  }

  /** Waits until the node is online and, when it has a model, the model is active. */
  private static void awaitReady(TestMqttClient c, String node, boolean model, AgentProcess a)
      throws Exception {
    NodeTopics t = Topics.node(SITE, node);
    if (model) {
      NodeBirth birth = Json.read(c.next(t.birth(), WAIT).payload(), NodeBirth.class);
      while (birth.activeModel() == null) {
        birth = Json.read(c.next(t.birth(), WAIT).payload(), NodeBirth.class);
      }
    } else {
      NodeStatus s = Json.read(c.next(t.status(), WAIT).payload(), NodeStatus.class);
      assertThat(s.state()).as(a.output()).isEqualTo(NodeState.ONLINE);
    }
  }

  private static void publishSensors(TestMqttClient c) throws Exception {
    c.publish(OIL_TOPIC, "71.5");
    c.publish(SECRET_TOPIC, SECRET);
  }

  private static Answer ask(TestMqttClient c, String node, String question, AgentProcess a)
      throws Exception {
    c.ask(
        Topics.node(SITE, node).ask(),
        Json.write(Question.of(question)),
        REPLIES,
        question.getBytes(StandardCharsets.UTF_8),
        170L);
    while (true) {
      Reply r = Json.read(c.next(REPLIES, WAIT).payload(), Reply.class);
      if (r instanceof Answer answer) {
        return answer;
      }
      throw new AssertionError("expected an answer, got " + r + "\n" + a.output());
    }
  }

  private static List<String> metricLines(Map<String, String> env) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + env.get("EDGESLM_MANAGEMENT_PORT")
                                + "/q/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return r.body().lines().filter(l -> l.startsWith("edgeslm_agent_escalations_total{")).toList();
  }

  private static double escalations(Map<String, String> env, String trigger, String outcome)
      throws Exception {
    return metricLines(env).stream()
        .filter(
            l ->
                l.contains("trigger=\"" + trigger + "\"")
                    && l.contains("outcome=\"" + outcome + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static List<String> sensorIds(List<SensorCitation> values) {
    return values.stream().map(SensorCitation::sensor).toList();
  }

  /**
   * An HTTP listener configured as the endpoint: records every request body and relays it to {@code
   * upstream} (a real llama-server), or answers 503 when there is none.
   */
  static final class RecordingEndpoint implements AutoCloseable {
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> responses = new CopyOnWriteArrayList<>();
    final HttpServer server;
    private final URI upstream;
    private final HttpClient client = HttpClient.newHttpClient();

    RecordingEndpoint(URI upstream) throws IOException {
      this.upstream = upstream;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
      server.setExecutor(Executors.newCachedThreadPool());
      server.createContext("/", this::handle);
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      requests.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + body);
      int status = 503;
      byte[] out = "{\"error\":{\"message\":\"no upstream\"}}".getBytes(StandardCharsets.UTF_8);
      if (upstream != null) {
        try {
          HttpResponse<byte[]> r =
              client.send(
                  HttpRequest.newBuilder(upstream.resolve(ex.getRequestURI().getPath()))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofByteArray());
          status = r.statusCode();
          out = r.body();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      responses.add(new String(out, StandardCharsets.UTF_8));
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(status, out.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(out);
      }
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  /** The pinned llama-server serving {@code gguf} on a free port, as a plant's endpoint would. */
  static final class LlamaServer implements AutoCloseable {
    final Process process;
    final URI url;
    final Path log;

    LlamaServer(Path gguf, Path dir) throws Exception {
      int port = AgentProcess.freePort();
      url = URI.create("http://127.0.0.1:" + port);
      log = dir.resolve("llama-server.log");
      process =
          new ProcessBuilder(
                  llamaServerBinary().toString(),
                  "-m",
                  gguf.toString(),
                  "--host",
                  "127.0.0.1",
                  "--port",
                  Integer.toString(port),
                  "-c",
                  "2048",
                  "-t",
                  "2")
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      HttpClient c = HttpClient.newHttpClient();
      long until = System.nanoTime() + WAIT.toNanos();
      while (true) {
        try {
          if (c.send(
                      HttpRequest.newBuilder(url.resolve("/health")).build(),
                      HttpResponse.BodyHandlers.discarding())
                  .statusCode()
              == 200) {
            return;
          }
        } catch (IOException notYet) {
          // still starting
        }
        if (!process.isAlive() || System.nanoTime() > until) {
          throw new AssertionError("llama-server did not start:\n" + Files.readString(log));
        }
        Thread.sleep(200);
      }
    }

    static Path llamaServerBinary() {
      String configured = System.getProperty("edgeslm.llama-server");
      if (configured == null || configured.isBlank()) {
        configured = System.getenv("EDGESLM_LLAMA_SERVER");
      }
      Path p;
      if (configured != null && !configured.isBlank()) {
        p = Path.of(configured);
      } else {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base =
            cache == null || cache.isBlank()
                ? Path.of(System.getProperty("user.home"), ".cache")
                : Path.of(cache);
        p = base.resolve("edgeslm/llama.cpp/current/bin/llama-server");
      }
      assertThat(Files.isExecutable(p))
          .as(
              "llama-server at %s (build it with scripts/ensure-llama-server.sh, or set"
                  + " EDGESLM_LLAMA_SERVER)",
              p)
          .isTrue();
      return p;
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      process.waitFor();
    }
  }

  // ---- the tests ----

  @Test
  void escalatedQuestions_areAnsweredBySecondNodesEngine_withOnlyAllowListedSensorValues()
      throws Exception {
    try (MqttBroker broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults())) {
      Path bigModel = gguf("big");
      Map<String, String> bigEnv = agent(broker, "big", false, model(bigModel, "big-model", 16));
      Map<String, String> smallSettings = new LinkedHashMap<>(model(gguf("small"), "small", 24));
      smallSettings.put("escalation.enabled", "true");
      smallSettings.put("escalation.target", "node:big");
      smallSettings.put("escalation.tasks", "sensor-values");
      smallSettings.put("escalation.min-token-probability", "1");
      smallSettings.put("escalation.on-invalid-answer", "false");
      smallSettings.put("escalation.sensors", "press3.*");
      smallSettings.put("escalation.timeout", "120s");
      Map<String, String> smallEnv = agent(broker, "small", true, smallSettings);
      NodeTopics big = Topics.node(SITE, "big");
      try (TestMqttClient c = TestMqttClient.connect(broker.url());
          TestMqttClient everything = TestMqttClient.connect(broker.url())) {
        everything.subscribe(big.allFilter());
        c.subscribe(big.birth());
        c.subscribe(Topics.node(SITE, "small").birth());
        c.subscribe(big.ask());
        c.subscribe(REPLIES);
        try (AgentProcess bigAgent = AgentProcess.start(bigEnv, work);
            AgentProcess small = AgentProcess.start(smallEnv, work)) {
          awaitReady(c, "big", true, bigAgent);
          awaitReady(c, "small", true, small);
          publishSensors(c);

          // Outside the node's tasks: a range question, where only sensor values are configured.
          Answer outside = ask(c, "small", "Is anything out of range?", small);
          // Inside them, but the synthetic model is never sure of its tokens.
          Answer unsure = ask(c, "small", "What is the oil temperature of press 3?", small);

          String bigDigest = digest(bigModel);
          for (Answer a : List.of(outside, unsure)) {
            assertThat(a.answeredBy()).as(small.output()).isEqualTo("node:big");
            assertThat(a.escalation().target()).isEqualTo("node:big");
            assertThat(a.escalation().note()).isNull();
            assertThat(a.source()).isEqualTo(Source.MODEL);
            assertThat(a.model().digest())
                .as("the second node's model wrote it")
                .isEqualTo(bigDigest);
            assertThat(sensorIds(a.sensors())).doesNotContain("recipe.secret_mix");
          }
          assertThat(outside.escalation().trigger()).isEqualTo("outside_tasks");
          assertThat(unsure.escalation().trigger()).isEqualTo("low_confidence");

          // What the second node received: the questions, each with the one allowed value.
          List<Question> received = new ArrayList<>();
          for (int i = 0; i < 2; i++) {
            received.add(Json.read(c.next(big.ask(), WAIT).payload(), Question.class));
          }
          assertThat(received)
              .extracting(Question::question)
              .containsExactly(
                  "Is anything out of range?", "What is the oil temperature of press 3?");
          for (Question q : received) {
            assertThat(sensorIds(q.contextValues())).containsExactly("press3.oil_temp");
            assertThat(q.contextValues().getFirst().value()).isEqualTo(71.5);
          }
          for (TestMqttClient.Received m : everything.drainAll()) {
            assertThat(m.text()).as(m.topic()).doesNotContain("secret").doesNotContain(SECRET);
          }
          assertThat(escalations(smallEnv, "outside_tasks", "answered")).isEqualTo(1.0);
          assertThat(escalations(smallEnv, "low_confidence", "answered")).isEqualTo(1.0);
          assertThat(small.output()).contains("Escalated question").contains("to node:big");
        }
      }
    }
  }

  @Test
  void invalidAnswer_goesToThePlantEndpoint_aRealLlamaServer_whichSeesOnlyAllowedValues()
      throws Exception {
    try (MqttBroker broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults());
        LlamaServer server = new LlamaServer(gguf("endpoint"), work);
        RecordingEndpoint endpoint = new RecordingEndpoint(server.url)) {
      // Four tokens cut every answer of the synthetic model off: it fails validation.
      Map<String, String> s = new LinkedHashMap<>(model(gguf("small"), "small", 4));
      s.put("escalation.enabled", "true");
      s.put("escalation.target", "endpoint");
      s.put("escalation.endpoint.url", endpoint.url());
      s.put("escalation.endpoint.model", "plant-big");
      s.put("escalation.endpoint.name", "plant-gpu");
      s.put("escalation.endpoint.answer-tokens", "16");
      // Greedy, the synthetic model writes only line breaks, which the node refuses as empty.
      s.put("escalation.endpoint.temperature", "0.8");
      s.put("escalation.sensors", "press3.*");
      s.put("escalation.timeout", "120s");
      Map<String, String> env = agent(broker, "small", true, s);
      try (TestMqttClient c = TestMqttClient.connect(broker.url())) {
        c.subscribe(Topics.node(SITE, "small").birth());
        c.subscribe(REPLIES);
        try (AgentProcess small = AgentProcess.start(env, work)) {
          awaitReady(c, "small", true, small);
          publishSensors(c);

          Answer a = ask(c, "small", "What is the oil temperature of press 3?", small);

          assertThat(a.answeredBy()).as(small.output()).isEqualTo("endpoint:plant-gpu");
          assertThat(a.escalation().trigger()).isEqualTo("invalid_answer");
          assertThat(a.source()).isEqualTo(Source.MODEL);
          assertThat(a.model().name()).isEqualTo("plant-big");
          assertThat(endpoint.requests).as(small.output()).hasSize(1);
          String request = endpoint.requests.getFirst();
          assertThat(request).startsWith("POST /v1/chat/completions ");
          assertThat(request)
              .contains("press3.oil_temp = 71.5 C")
              .contains("What is the oil temperature of press 3?")
              .doesNotContain("secret")
              .doesNotContain(SECRET);
          JsonNode served = JSON.readTree(endpoint.responses.getFirst());
          assertThat(a.answer())
              .as("the endpoint's own text")
              .isEqualTo(
                  io.edgeslm.protocol.Protocol.sanitizeText(
                          served.at("/choices/0/message/content").asText())
                      .strip());
          assertThat(escalations(env, "invalid_answer", "answered")).isEqualTo(1.0);
        }
      }
    }
  }

  @Test
  void targetNodeAbsent_operatorGetsTheLocalAnswerWithANote_afterTheTimeout() throws Exception {
    try (MqttBroker broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults())) {
      Map<String, String> env =
          agent(
              broker,
              "small",
              true,
              Map.of(
                  "escalation.enabled", "true",
                  "escalation.target", "node:ghost",
                  "escalation.tasks", "sensor-values",
                  "escalation.sensors", "press3.*",
                  "escalation.timeout", "1s"));
      try (TestMqttClient c = TestMqttClient.connect(broker.url())) {
        c.subscribe(Topics.node(SITE, "small").status());
        c.subscribe(REPLIES);
        try (AgentProcess small = AgentProcess.start(env, work)) {
          awaitReady(c, "small", false, small);
          publishSensors(c);

          Answer a = ask(c, "small", "Is anything out of range?", small);

          assertThat(a.answeredBy()).as(small.output()).isEqualTo("local");
          assertThat(a.source()).isEqualTo(Source.RULES);
          assertThat(a.answer()).startsWith("No sensor is out of range");
          assertThat(a.escalation().trigger()).isEqualTo("outside_tasks");
          assertThat(a.escalation().note())
              .isEqualTo("node:ghost did not answer within 1000 ms; this is the node's own answer");
          assertThat(escalations(env, "outside_tasks", "timeout")).isEqualTo(1.0);
        }
      }
    }
  }

  /**
   * Every trigger is there (an unsure, cut-off model answer; a question outside the configured
   * tasks; one the node has no sensor for) and a target is configured, but escalation is off: the
   * broker carries nothing but the node's own topics, the operator's answers and the plant's sensor
   * values, and the endpoint is never contacted.
   */
  @ParameterizedTest
  @ValueSource(strings = {"node:big", "endpoint"})
  void escalationOff_noQuestionOrSensorValueLeavesTheNode(String target) throws Exception {
    try (MqttBroker broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults());
        RecordingEndpoint endpoint = new RecordingEndpoint(null)) {
      Map<String, String> s = new LinkedHashMap<>(model(gguf("small"), "small", 4));
      s.put("escalation.enabled", "false");
      s.put("escalation.target", target);
      s.put("escalation.endpoint.url", endpoint.url());
      s.put("escalation.endpoint.model", "plant-big");
      s.put("escalation.min-token-probability", "1");
      s.put("escalation.on-invalid-answer", "true");
      s.put("escalation.tasks", "sensor-values");
      s.put("escalation.sensors", "*");
      Map<String, String> env = agent(broker, "small", true, s);
      NodeTopics small = Topics.node(SITE, "small");
      try (TestMqttClient everything = TestMqttClient.connect(broker.url());
          TestMqttClient c = TestMqttClient.connect(broker.url())) {
        everything.subscribe("#");
        c.subscribe(small.birth());
        c.subscribe(REPLIES);
        try (AgentProcess agent = AgentProcess.start(env, work)) {
          awaitReady(c, "small", true, agent);
          publishSensors(c);

          List<Answer> answers = new ArrayList<>();
          for (String q :
              List.of(
                  "What is the oil temperature of press 3?",
                  "Is anything out of range?",
                  "How is the boiler pressure?")) {
            answers.add(ask(c, "small", q, agent));
          }

          for (Answer a : answers) {
            assertThat(a.answeredBy()).as(agent.output()).isEqualTo("local");
            assertThat(a.escalation()).isNull();
          }
          assertThat(endpoint.requests).as("requests to the configured endpoint").isEmpty();
          Set<String> plant = Set.of(OIL_TOPIC, SECRET_TOPIC);
          List<TestMqttClient.Received> seen = everything.drainAll();
          assertThat(seen).isNotEmpty();
          for (TestMqttClient.Received m : seen) {
            assertThat(
                    m.topic().startsWith(small.prefix())
                        || m.topic().equals(REPLIES)
                        || plant.contains(m.topic()))
                .as("topic %s carries %s", m.topic(), m.text())
                .isTrue();
          }
          assertThat(metricLines(env))
              .isNotEmpty()
              .allSatisfy(l -> assertThat(l).contains("target=\"none\"").endsWith(" 0.0"));
          assertThat(agent.output()).contains("Escalation: off");
        }
      }
    }
  }
}
