package io.edgeslm.system;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.SyntheticModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A streamed answer through the whole path, as an operator's browser gets it: the packaged fleet
 * controller's {@code POST /api/v1/nodes/{id}/ask} with {@code Accept: text/event-stream}, a
 * private Mosquitto, and the packaged node agent answering from a synthetic model (random weights,
 * so its tokens include control characters). Several long answers stream at once; each must arrive
 * whole and in order: parts {@code seq} 0 to n-1 each once, n equal to the answer's {@code parts},
 * their texts joined equal to the answer, no {@code gap} event, and no token refused on the node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamedAskIT {
  private static final Duration WAIT = Duration.ofSeconds(240);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NODE = "gw-stream";
  private static final int QUESTIONS = 4;

  private final HttpClient http = HttpClient.newHttpClient();
  private Path repo;
  private Path work;
  private Path javaBin;
  private MqttBroker broker;
  private Process controller;
  private Process agent;
  private Path agentLog;
  private int httpPort;
  private String token;

  @BeforeAll
  void start() throws Exception {
    repo = Path.of(System.getProperty("edgeslm.repo", "..")).toAbsolutePath().normalize();
    javaBin = Path.of(ProcessHandle.current().info().command().orElse("java"));
    for (String p :
        List.of(
            "fleet-controller/target/quarkus-app/quarkus-run.jar",
            "node-agent/target/quarkus-app/quarkus-run.jar")) {
      if (!Files.isRegularFile(repo.resolve(p))) {
        throw new AssertionError(
            repo.resolve(p) + " is missing: package the applications first (./mvnw -B package).");
      }
    }
    work = Files.createDirectories(repo.resolve("system-tests/target/stream-" + UUID.randomUUID()));
    broker = MqttBroker.privateMosquitto();
    String brokerUrl = "tcp://" + broker.host() + ":" + broker.port();

    token = UUID.randomUUID().toString();
    httpPort = freePort();
    Path cdir = Files.createDirectories(work.resolve("controller"));
    Map<String, String> cenv = new LinkedHashMap<>();
    cenv.put("FLEET_MQTT_URI", brokerUrl);
    cenv.put("FLEET_MQTT_CLIENT_ID", "controller-stream");
    cenv.put("FLEET_AUTH_BOOTSTRAP_ADMIN_TOKEN", token);
    cenv.put("QUARKUS_HTTP_PORT", Integer.toString(httpPort));
    // A free management port too: the default 9080 may be taken by another controller.
    cenv.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(freePort()));
    // No bundle is uploaded here, but the controller wants a release key to trust.
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
    g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
    Path key = cdir.resolve("release.pub");
    Files.writeString(
        key,
        "-----BEGIN PUBLIC KEY-----\n"
            + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(g.generateKeyPair().getPublic().getEncoded())
            + "\n-----END PUBLIC KEY-----\n");
    cenv.put("FLEET_TRUST_KEYS", key.toString());
    controller =
        start(
            List.of(
                javaBin.toString(),
                "-XX:+UseSerialGC",
                "-Xmx256m",
                "-jar",
                repo.resolve("fleet-controller/target/quarkus-app/quarkus-run.jar").toString()),
            cenv,
            cdir,
            cdir.resolve("controller.log"));

    Path adir = Files.createDirectories(work.resolve("agent"));
    SyntheticModel m = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, 42);
    Path gguf = m.write(adir.resolve(m.suggestedFileName()));
    Map<String, String> aenv = new LinkedHashMap<>();
    aenv.put("EDGESLM_AGENT_BROKER_URL", brokerUrl);
    aenv.put("EDGESLM_AGENT_SITE", "plant-stream");
    aenv.put("EDGESLM_AGENT_NODE_ID", NODE);
    aenv.put("EDGESLM_AGENT_MODEL_PATH", gguf.toString());
    aenv.put("EDGESLM_AGENT_MODEL_NAME", "edgeslm-tiny");
    aenv.put("EDGESLM_AGENT_MODEL_THREADS", "1");
    aenv.put("EDGESLM_AGENT_MODEL_CONTEXT", "2048");
    // Long answers: hundreds of parts per question, several questions at once.
    aenv.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "400");
    aenv.put("EDGESLM_AGENT_MODEL_TEMPERATURE", "1.0");
    aenv.put("EDGESLM_AGENT_MODEL_SEED", "7");
    aenv.put("EDGESLM_AGENT_REPORT_INTERVAL", "1h");
    aenv.put("EDGESLM_AGENT_JOURNAL_DIR", adir.resolve("journal").toString());
    aenv.put("EDGESLM_AGENT_UPDATES_DATA_DIR", adir.resolve("data").toString());
    aenv.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(freePort()));
    agentLog = adir.resolve("agent.log");
    agent =
        start(
            List.of(
                javaBin.toString(),
                "-XX:+UseSerialGC",
                "-Xmx256m",
                "--enable-native-access=ALL-UNNAMED",
                "-jar",
                repo.resolve("node-agent/target/quarkus-app/quarkus-run.jar").toString()),
            aenv,
            adir,
            agentLog);
    await(
        NODE + " online with its model at the controller",
        () -> {
          HttpResponse<String> r = get("/api/v1/nodes/" + NODE);
          if (r.statusCode() != 200) {
            return false;
          }
          JsonNode n = JSON.readTree(r.body());
          return n.path("status").asText().equalsIgnoreCase("online")
              && !n.at("/model/digest").asText("").isEmpty();
        });
  }

  @AfterAll
  void stop() throws Exception {
    for (Process p : new Process[] {agent, controller}) {
      if (p != null && p.isAlive()) {
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
    if (broker != null) {
      broker.close();
    }
  }

  /** One streamed answer as the SSE client saw it. */
  record Streamed(List<Integer> seqs, String joined, JsonNode answer, List<String> events) {}

  @Test
  void concurrentLongStreamedAnswers_arriveWholeAndInOrder_partsJoinUpToEachAnswer()
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(QUESTIONS);
    List<Future<Streamed>> asked = new ArrayList<>();
    for (int i = 0; i < QUESTIONS; i++) {
      String q = "What is going on at press " + (i + 1) + "? Tell me everything.";
      asked.add(pool.submit(() -> askStreamed(q)));
    }
    int total = 0;
    for (Future<Streamed> f : asked) {
      Streamed s = f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      JsonNode a = s.answer();
      List<Integer> holes = new ArrayList<>();
      int highest = s.seqs().stream().mapToInt(Integer::intValue).max().orElse(-1);
      for (int i = 0; i <= highest; i++) {
        if (!s.seqs().contains(i)) {
          holes.add(i);
        }
      }
      System.out.printf(
          "streamed answer: %d parts received, answer says %s, seq holes %s, joined parts %s the"
              + " answer, events %s%n",
          s.seqs().size(),
          a.path("parts").isMissingNode() ? "nothing" : a.path("parts").asText(),
          holes,
          s.joined().equals(a.path("answer").asText()) ? "equal" : "differ from",
          s.events().stream().distinct().toList());
      assertThat(s.events()).as("events").doesNotContain("gap", "problem").endsWith("answer");
      assertThat(a.path("source").asText()).as(a.toString()).isEqualTo("model");
      int n = a.path("parts").asInt(-1);
      assertThat(s.seqs()).as("part seq numbers").hasSize(n);
      for (int i = 0; i < n; i++) {
        assertThat(s.seqs().get(i)).as("seq at position %d", i).isEqualTo(i);
      }
      assertThat(s.joined()).as("joined parts").isEqualTo(a.path("answer").asText());
      total += n;
    }
    pool.shutdown();
    // Enough parts to catch a loss: the four answers carry hundreds between them.
    assertThat(total).as("parts streamed in all").isGreaterThanOrEqualTo(300);
    String log = Files.readString(agentLog);
    assertThat(log)
        .doesNotContain("Token listener of request")
        .doesNotContain("control characters");
  }

  private Streamed askStreamed(String question) throws Exception {
    HttpResponse<java.io.InputStream> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/nodes/" + NODE + "/ask"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        JSON.writeValueAsString(
                            Map.of("question", question, "timeoutSeconds", 120))))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    List<Integer> seqs = new ArrayList<>();
    List<String> events = new ArrayList<>();
    StringBuilder joined = new StringBuilder();
    JsonNode answer = null;
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String event = null;
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          JsonNode data = JSON.readTree(line.substring(6));
          events.add(event);
          switch (event) {
            case "part" -> {
              seqs.add(data.path("seq").asInt());
              joined.append(data.path("text").asText());
            }
            case "answer" -> answer = data;
            default -> {}
          }
        }
      }
    }
    assertThat(answer).as("an answer event among %s", events).isNotNull();
    return new Streamed(seqs, joined.toString(), answer, events);
  }

  // ---- plumbing ----

  private String base() {
    return "http://127.0.0.1:" + httpPort;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base() + path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + token)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static Process start(List<String> cmd, Map<String, String> env, Path dir, Path log)
      throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  private void await(String what, java.util.concurrent.Callable<Boolean> check) throws Exception {
    long end = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < end) {
      if (!controller.isAlive() || !agent.isAlive()) {
        throw new AssertionError(
            "A process exited while waiting for " + what + ". Logs in " + work);
      }
      try {
        if (check.call()) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(300);
    }
    throw new AssertionError("Waited " + WAIT + " for " + what + ". Logs in " + work);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
