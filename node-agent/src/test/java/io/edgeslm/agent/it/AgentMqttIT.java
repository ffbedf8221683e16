package io.edgeslm.agent.it;

import static io.edgeslm.agent.it.PrivateBrokerResource.NODE;
import static io.edgeslm.agent.it.PrivateBrokerResource.OIL_TOPIC;
import static io.edgeslm.agent.it.PrivateBrokerResource.PRESSURE_TOPIC;
import static io.edgeslm.agent.it.PrivateBrokerResource.SITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import io.edgeslm.agent.internal.lifecycle.AgentRuntime;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.ReportStatus;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The agent in-process against a real private Mosquitto: presence, operator Q&A over MQTT 5 and
 * 3.1.1 (with the plain mosquitto clients), error replies, expiry, a burst of 100 questions,
 * anomaly reports validated against the published schema, health and metrics endpoints, and a
 * broker restart with journaled health replayed in order.
 */
@QuarkusTest
@WithTestResource(PrivateBrokerResource.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentMqttIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String ASK = Topics.node(SITE, NODE).ask();

  @Inject AgentRuntime runtime;

  private static String uri() {
    return PrivateBrokerResource.broker.url();
  }

  private static Reply reply(TestMqttClient.Received r) throws Exception {
    return Json.read(r.payload(), Reply.class);
  }

  private static void awaitConnected(AgentRuntime runtime) {
    await().atMost(WAIT).until(runtime::isBrokerConnected);
  }

  @Test
  @Order(1)
  void connect_publishesRetainedOnlineStatusAndBirthWithLabels() throws Exception {
    awaitConnected(runtime);
    try (TestMqttClient c = TestMqttClient.connect(uri())) {
      var topics = Topics.node(SITE, NODE);
      c.subscribe(topics.status());
      c.subscribe(topics.birth());
      NodeStatus status = Json.read(c.next(topics.status(), WAIT).payload(), NodeStatus.class);
      assertThat(status.state()).isEqualTo(NodeState.ONLINE);
      NodeBirth birth = Json.read(c.next(topics.birth(), WAIT).payload(), NodeBirth.class);
      assertThat(birth.labels()).containsEntry("line", "it-line");
      assertThat(birth.deviceClass()).isEqualTo("generic");
      assertThat(birth.activeModel()).isNull();
      assertThat(birth.ramBytes()).isPositive();
    }
  }

  @Test
  @Order(2)
  void mqtt5Question_answeredOnResponseTopicWithCorrelationEchoedAndSensorsCited()
      throws Exception {
    awaitConnected(runtime);
    try (TestMqttClient c = TestMqttClient.connect(uri())) {
      c.publish(OIL_TOPIC, "71.2");
      c.publish(PRESSURE_TOPIC, "{\"value\": 182.5, \"unit\": \"bar\"}");
      c.subscribe("operator/it/answers/1");
      byte[] correlation = {1, 2, 3, 4, (byte) 0xfe};
      c.ask(
          ASK,
          "{\"question\":\"What is the oil temperature of press 3?\"}"
              .getBytes(StandardCharsets.UTF_8),
          "operator/it/answers/1",
          correlation,
          60L);

      TestMqttClient.Received r = c.next("operator/it/answers/1", WAIT);
      assertThat(r.correlation().orElseThrow()).containsExactly(correlation);
      assertThat(r.props()).containsEntry("type", "answer");
      Answer answer = (Answer) reply(r);
      assertThat(answer.source()).isEqualTo(Source.RULES);
      assertThat(answer.model()).isNull();
      assertThat(answer.answer()).startsWith("Press 3 oil temperature is 71.2 °C, normal 40–80");
      assertThat(answer.sensors())
          .anySatisfy(
              s -> {
                assertThat(s.sensor()).isEqualTo("press3.oil_temp");
                assertThat(s.value()).isEqualTo(71.2);
                assertThat(s.unit()).isEqualTo("°C");
              });
      assertThat(answer.timings().totalMs()).isNotNegative();
    }
  }

  @Test
  @Order(3)
  void mosquittoRr_documentedMqtt5Command_printsTheAnswer() throws Exception {
    awaitConnected(runtime);
    var broker = PrivateBrokerResource.broker;
    Process p =
        new ProcessBuilder(
                "mosquitto_rr",
                "-V",
                "mqttv5",
                "-h",
                broker.host(),
                "-p",
                Integer.toString(broker.port()),
                "-t",
                ASK,
                "-e",
                "operator/answers",
                "-m",
                "{\"question\":\"What is the oil temperature of press 3?\"}",
                "-W",
                "30")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(out).isZero();
    Answer answer = Json.read(out.getBytes(StandardCharsets.UTF_8), Answer.class);
    assertThat(answer.answer()).contains("Press 3 oil temperature is");
  }

  @Test
  @Order(4)
  void mqtt311Question_fromMosquittoPub_answeredOnReplyToWithIdEchoed() throws Exception {
    awaitConnected(runtime);
    var broker = PrivateBrokerResource.broker;
    try (TestMqttClient c = TestMqttClient.connect(uri())) {
      c.subscribe("operator/it/answers/311");
      Process p =
          new ProcessBuilder(
                  "mosquitto_pub",
                  "-V",
                  "mqttv311",
                  "-h",
                  broker.host(),
                  "-p",
                  Integer.toString(broker.port()),
                  "-t",
                  ASK,
                  "-m",
                  "{\"id\":\"q-311\",\"replyTo\":\"operator/it/answers/311\","
                      + "\"question\":\"What is the hydraulic pressure of press 3?\"}")
              .redirectErrorStream(true)
              .start();
      assertThat(p.waitFor()).isZero();
      Answer answer = (Answer) reply(c.next("operator/it/answers/311", WAIT));
      assertThat(answer.id()).isEqualTo("q-311");
      assertThat(answer.answer()).contains("Press 3 hydraulic pressure is 182.5 bar");
    }
  }

  @Test
  @Order(5)
  void badQuestions_getErrorRepliesNamingTheProblem() throws Exception {
    awaitConnected(runtime);
    try (TestMqttClient c = TestMqttClient.connect(uri())) {
      c.subscribe("operator/it/errors");
      c.ask(
          ASK,
          "{\"question\":".getBytes(StandardCharsets.UTF_8),
          "operator/it/errors",
          new byte[] {1},
          null);
      c.ask(ASK, new byte[] {'{', (byte) 0xff, '}'}, "operator/it/errors", new byte[] {2}, null);
      byte[] big = ("{\"question\":\"" + "x".repeat(9000) + "\"}").getBytes(StandardCharsets.UTF_8);
      c.ask(ASK, big, "operator/it/errors", new byte[] {3}, null);
      c.publish(ASK, "{\"id\":\"q-bad\",\"replyTo\":\"operator/it/errors\",\"stream\":true}");

      ErrorReply malformed = (ErrorReply) reply(c.next("operator/it/errors", WAIT));
      ErrorReply notUtf8 = (ErrorReply) reply(c.next("operator/it/errors", WAIT));
      ErrorReply oversized = (ErrorReply) reply(c.next("operator/it/errors", WAIT));
      ErrorReply invalid = (ErrorReply) reply(c.next("operator/it/errors", WAIT));
      assertThat(malformed.code()).isEqualTo(ErrorCode.MALFORMED);
      assertThat(notUtf8.code()).isEqualTo(ErrorCode.NOT_UTF8);
      assertThat(notUtf8.message())
          .isEqualTo("Question: the payload is not valid UTF-8. Encode the JSON as UTF-8.");
      assertThat(oversized.code()).isEqualTo(ErrorCode.OVERSIZED);
      assertThat(oversized.message())
          .isEqualTo(
              "Question: payload of "
                  + big.length
                  + " bytes exceeds the limit of 8192 bytes. Send a smaller message.");
      assertThat(invalid.code()).isEqualTo(ErrorCode.INVALID);
      assertThat(invalid.id()).isEqualTo("q-bad");
    }
  }

  @Test
  @Order(6)
  void expiredQuestion_isDroppedWithoutReply() throws Exception {
    awaitConnected(runtime);
    try (TestMqttClient c = TestMqttClient.connect(uri())) {
      c.subscribe("operator/it/expiry");
      String past = Instant.now().minusSeconds(5).toString();
      c.publish(
          ASK,
          "{\"id\":\"stale\",\"replyTo\":\"operator/it/expiry\",\"question\":\"Oil temperature?\","
              + "\"expiresAt\":\""
              + past
              + "\"}");
      c.publish(
          ASK,
          "{\"id\":\"fresh\",\"replyTo\":\"operator/it/expiry\",\"question\":\"Oil temperature?\"}");
      // The agent handles the ask topic in arrival order: had it answered the stale question,
      // that reply would come first.
      Answer first = (Answer) reply(c.next("operator/it/expiry", WAIT));
      assertThat(first.id()).isEqualTo("fresh");
      assertThat(c.drain("operator/it/expiry")).isEmpty();
    }
  }

  @Test
  @Order(6)
  void replyTopicOnTheNodesOwnTopics_isRefused_nothingIsPublishedThere() throws Exception {
    awaitConnected(runtime);
    var topics = Topics.node(SITE, NODE);
    List<String> forbidden =
        List.of(
            topics.updateCommand(),
            topics.status(),
            topics.health(),
            topics.report(),
            topics.journal(),
            topics.birth(),
            "$SYS/broker/log");
    try (TestMqttClient c = TestMqttClient.connect(uri())) {
      for (String t : forbidden) {
        c.subscribe(t);
      }
      c.subscribe("operator/it/barrier");
      for (String t : forbidden) {
        c.publish(
            ASK,
            Json.writeString(
                Map.of("id", "evil-311", "replyTo", t, "question", "Oil temperature?")));
        c.ask(
            ASK,
            "{\"question\":\"Oil temperature?\"}".getBytes(StandardCharsets.UTF_8),
            t,
            new byte[] {6, 6},
            null);
      }
      c.publish(
          ASK, "{\"id\":\"barrier\",\"replyTo\":\"operator/it/barrier\",\"question\":\"Oil?\"}");
      // The ask topic is handled in arrival order: once the barrier is answered, every forbidden
      // question before it has been judged.
      assertThat(reply(c.next("operator/it/barrier", WAIT)).id()).isEqualTo("barrier");
      for (String t : forbidden) {
        assertThat(c.drain(t))
            .as(t)
            .noneMatch(r -> r.text().contains("evil-311") || r.correlation().isPresent());
      }
    }
    assertThat(metric("edgeslm_agent_questions_forbidden_reply_topic_total"))
        .isGreaterThanOrEqualTo(2.0 * forbidden.size());
  }

  private static double metric(String name) throws Exception {
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + managementPort() + "/q/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return metrics
        .body()
        .lines()
        .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  @Test
  @Order(7)
  void hundredConcurrentQuestions_eachAnsweredOrRejectedAsBusy() throws Exception {
    awaitConnected(runtime);
    int clients = 4;
    int perClient = 25;
    try (TestMqttClient listener = TestMqttClient.connect(uri())) {
      listener.subscribe("operator/it/burst/#");
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      List<Future<?>> sent = new ArrayList<>();
      for (int k = 0; k < clients; k++) {
        int client = k;
        sent.add(
            pool.submit(
                () -> {
                  try (TestMqttClient c = TestMqttClient.connect(uri())) {
                    for (int i = 0; i < perClient; i++) {
                      String id = "b" + client + "-" + i;
                      c.publish(
                          ASK,
                          "{\"id\":\""
                              + id
                              + "\",\"replyTo\":\"operator/it/burst/"
                              + id
                              + "\",\"question\":\"Oil temperature of press 3?\"}");
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : sent) {
        f.get();
      }
      pool.shutdown();
      Set<String> ids = new HashSet<>();
      int answered = 0;
      int busy = 0;
      for (int i = 0; i < clients * perClient; i++) {
        Reply r = reply(listener.next("operator/it/burst/#", WAIT));
        assertThat(ids.add(r.id())).as("one reply per question: %s", r.id()).isTrue();
        switch (r) {
          case Answer a -> answered++;
          case ErrorReply e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BUSY);
            assertThat(e.retryAfterMs()).isPositive();
            busy++;
          }
          default -> throw new AssertionError("unexpected reply " + r);
        }
      }
      assertThat(answered + busy).isEqualTo(100);
      assertThat(answered).isPositive();
    }
  }

  @Test
  @Order(8)
  void sensorLeavingItsRange_triggersAReportValidAgainstThePublishedSchema() throws Exception {
    awaitConnected(runtime);
    String reportTopic = Topics.node(SITE, NODE).report();
    try (TestMqttClient c = TestMqttClient.connect(uri())) {
      c.subscribe(reportTopic);
      c.publish(OIL_TOPIC, "72.0");
      c.publish(OIL_TOPIC, "{\"value\": 95.5, \"unit\": \"°C\"}");
      TestMqttClient.Received r = c.next(reportTopic, WAIT);

      JsonNode tree = Json.mapper().readTree(r.payload());
      JsonSchema schema;
      try (InputStream in =
          Protocol.class.getClassLoader().getResourceAsStream(Protocol.SENSOR_REPORT_SCHEMA)) {
        schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(in);
      }
      assertThat(
              schema.validate(
                  Json.mapper().valueToTree(Json.read(r.payload(), SensorReport.class).content())))
          .isEmpty();
      SensorReport report = Json.read(r.payload(), SensorReport.class);
      assertThat(report.status()).isIn(ReportStatus.WARNING, ReportStatus.CRITICAL);
      assertThat(report.anomalies())
          .anySatisfy(a -> assertThat(a.sensor()).isEqualTo("press3.oil_temp"));
      assertThat(report.provenance().source()).isEqualTo(Source.RULES);
      assertThat(report.provenance().fallback()).isFalse();
      assertThat(r.props()).containsKey("journal-seq");
      assertThat(tree.get("schemaVersion").asInt()).isEqualTo(1);
    }
  }

  @Test
  @Order(9)
  void healthAndMetrics_servedOnTheManagementInterface() throws Exception {
    awaitConnected(runtime);
    int port = managementPort();
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> ready =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(ready.body()).contains("\"brokerConnected\": true");
    HttpResponse<String> metrics =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("edgeslm_agent_questions_answered_total")
        .contains("edgeslm_agent_mqtt_connected 1.0")
        .contains("edgeslm_agent_journal_entries");
  }

  private static int managementPort() {
    return PrivateBrokerResource.managementPort;
  }

  @Test
  @Order(10)
  void brokerRestart_journaledHealthReplayedInOrderWithoutGapsOrDuplicates_andQuestionsWorkAgain()
      throws Exception {
    awaitConnected(runtime);
    String health = Topics.node(SITE, NODE).health();
    try (TestMqttClient watcher = TestMqttClient.connect(uri(), "it-watcher", false)) {
      watcher.subscribe(health);
      List<TestMqttClient.Received> seen = new ArrayList<>();
      await()
          .atMost(WAIT)
          .until(
              () -> {
                seen.addAll(watcher.drain(health));
                return seen.size() >= 3;
              });
      long connectsBefore = runtime.journal().orElseThrow().lastSeq();

      PrivateBrokerResource.broker.stop();
      await().atMost(WAIT).until(() -> !runtime.isBrokerConnected());
      // Health keeps being written while the broker is away.
      await().atMost(WAIT).until(() -> runtime.journal().orElseThrow().size() >= 3);
      long writtenOffline = runtime.journal().orElseThrow().lastSeq();
      PrivateBrokerResource.broker.start();

      awaitConnected(runtime);
      await().atMost(WAIT).until(() -> runtime.journal().orElseThrow().size() == 0);
      long target = runtime.journal().orElseThrow().lastSeq();
      await()
          .atMost(WAIT)
          .until(
              () -> {
                seen.addAll(watcher.drain(health));
                return seen.stream().anyMatch(r -> seq(r) >= target);
              });

      List<Long> seqs = seen.stream().map(AgentMqttIT::seq).toList();
      long first = seqs.getFirst();
      List<Long> expected = new ArrayList<>();
      for (long s = first; s <= seqs.getLast(); s++) {
        expected.add(s);
      }
      assertThat(seqs).as("health journal sequence numbers").isEqualTo(expected);
      assertThat(seqs).contains(writtenOffline);
      assertThat(writtenOffline).isGreaterThan(connectsBefore);
      for (TestMqttClient.Received r : seen) {
        assertThat(Json.read(r.payload(), NodeHealth.class).intervalSeconds()).isPositive();
      }

      // Resubscribed after the restart: questions are answered again.
      try (TestMqttClient c = TestMqttClient.connect(uri())) {
        c.subscribe("operator/it/after-restart");
        c.publish(
            ASK,
            "{\"id\":\"again\",\"replyTo\":\"operator/it/after-restart\",\"question\":\"Oil temperature?\"}");
        assertThat(reply(c.next("operator/it/after-restart", WAIT)).id()).isEqualTo("again");
      }
    }
  }

  private static long seq(TestMqttClient.Received r) {
    return Long.parseLong(r.props().get("journal-seq"));
  }
}
