package io.edgeslm.agent.internal.qa;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.ReplyNamespace;
import io.edgeslm.protocol.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class QuestionIntakeTest {

  private static final Instant NOW = Instant.parse("2026-11-21T08:00:00Z");
  private static final QuestionIntake.Limits LIMITS =
      new QuestionIntake.Limits(512, 100, Duration.ofSeconds(30));
  private static final QuestionIntake.Limits ROOMY =
      new QuestionIntake.Limits(8192, 100, Duration.ofSeconds(30));
  private static final NodeTopics NODE = Topics.node("s", "n");
  private static final ReplyNamespace REPLIES = ReplyNamespace.of(NODE, List.of("ops/"));

  static InboundMessage mqtt5(byte[] payload, Long expiry) {
    return mqtt5(payload, expiry, "ops/answers");
  }

  static InboundMessage mqtt5(byte[] payload, Long expiry, String responseTopic) {
    return new InboundMessage(
        "edge/v1/s/n/ask",
        payload,
        1,
        false,
        Optional.of(responseTopic),
        Optional.of(new byte[] {7, 7}),
        Optional.ofNullable(expiry),
        List.of(),
        0);
  }

  static InboundMessage mqtt311(String json) {
    return new InboundMessage(
        "edge/v1/s/n/ask",
        json.getBytes(StandardCharsets.UTF_8),
        0,
        false,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        List.of(),
        0);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void mqtt5Question_acceptedWithResponseTopicCorrelationAndExpiryDeadline() {
    var v =
        QuestionIntake.judge(
            mqtt5(utf8("{\"question\":\"Oil temperature?\"}"), 10L), LIMITS, REPLIES, NOW);
    assertThat(v).isInstanceOf(QuestionIntake.Accepted.class);
    var a = (QuestionIntake.Accepted) v;
    assertThat(a.route().topic()).isEqualTo("ops/answers");
    assertThat(a.route().correlationData().orElseThrow()).containsExactly(7, 7);
    assertThat(a.deadline()).isEqualTo(NOW.plusSeconds(10));
    assertThat(a.question().question()).isEqualTo("Oil temperature?");
  }

  @Test
  void mqtt311Question_withReplyTo_acceptedWithIdAndDefaultDeadline() {
    var v =
        QuestionIntake.judge(
            mqtt311("{\"id\":\"q1\",\"replyTo\":\"ops/a\",\"question\":\"Oil?\"}"),
            LIMITS,
            REPLIES,
            NOW);
    var a = (QuestionIntake.Accepted) v;
    assertThat(a.route().topic()).isEqualTo("ops/a");
    assertThat(a.route().id()).contains("q1");
    assertThat(a.deadline()).isEqualTo(NOW.plusSeconds(30));
  }

  @Test
  void oversized_refusedWithOversized() {
    byte[] big = utf8("{\"question\":\"" + "x".repeat(600) + "\"}");
    var r = (QuestionIntake.Refused) QuestionIntake.judge(mqtt5(big, null), LIMITS, REPLIES, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.OVERSIZED);
    assertThat(r.error().message())
        .isEqualTo(
            "Question: payload of "
                + big.length
                + " bytes exceeds the limit of 512 bytes. Send a smaller message.");
  }

  @Test
  void notUtf8_refusedWithNotUtf8() {
    var r =
        (QuestionIntake.Refused)
            QuestionIntake.judge(
                mqtt5(new byte[] {'{', (byte) 0xc3, 0x28, '}'}, null), LIMITS, REPLIES, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.NOT_UTF8);
  }

  @Test
  void malformedJson_refusedWithMalformedOnResponseTopic() {
    var r =
        (QuestionIntake.Refused)
            QuestionIntake.judge(mqtt5(utf8("{question:"), null), LIMITS, REPLIES, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.MALFORMED);
    assertThat(r.route().topic()).isEqualTo("ops/answers");
  }

  @Test
  void invalidQuestion_on311_refusedOnReplyToWithIdEchoed() {
    var r =
        (QuestionIntake.Refused)
            QuestionIntake.judge(
                mqtt311("{\"id\":\"q9\",\"replyTo\":\"ops/a\"}"), LIMITS, REPLIES, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.INVALID);
    assertThat(r.error().id()).isEqualTo("q9");
    assertThat(r.route().topic()).isEqualTo("ops/a");
  }

  @Test
  void noReplyRoute_dropped() {
    assertThat(QuestionIntake.judge(mqtt311("{\"question\":\"Oil?\"}"), LIMITS, REPLIES, NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
    assertThat(QuestionIntake.judge(mqtt311("not json"), LIMITS, REPLIES, NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
  }

  // Reply topics are untrusted input: a question must not steer the answer onto a topic outside
  // the reply namespace, least of all onto the node's own control and telemetry topics.

  static List<String> forbiddenReplyTopics() {
    return List.of(
        NODE.updateCommand(),
        NODE.updateAssignment(),
        NODE.updateChunk(),
        NODE.updateRequest(),
        NODE.updateProgress(),
        NODE.updateResult(),
        NODE.status(),
        NODE.birth(),
        NODE.health(),
        NODE.report(),
        NODE.journal(),
        NODE.journalAck(),
        NODE.ask(),
        "edge/v1/s/n/answersx",
        "edge/v1/s/other/answers/1",
        "edge/v1/other-site/n/answers/1",
        "edge/v1/s/n/answers/+",
        "edge/v1/s/n/answers/#",
        "ops/#",
        "ops/+/a",
        "ops/",
        "opsx/a",
        "#",
        "$SYS/broker/clients",
        "$share/g/ops/a",
        "fleet/v1/+/reply",
        "fleet/v1/controller-0/reply/extra",
        "fleet/v1//reply",
        "plant/press3/oil_temp",
        "ops/" + "a".repeat(ReplyNamespace.MAX_TOPIC_CHARS),
        "ops/a\u0000b");
  }

  @ParameterizedTest
  @MethodSource("forbiddenReplyTopics")
  void forbiddenResponseTopic_isRefusedAndNothingIsPublished(String topic) {
    assertThat(
            QuestionIntake.judge(
                mqtt5(utf8("{\"question\":\"Oil?\"}"), null, topic), LIMITS, REPLIES, NOW))
        .isInstanceOf(QuestionIntake.Forbidden.class);
  }

  @ParameterizedTest
  @MethodSource("forbiddenReplyTopics")
  void forbiddenReplyTo_isRefusedAndNothingIsPublished(String topic) {
    // Room for the over-long topic in the payload, so that the topic rule is what refuses it.
    String json = Json.writeString(Map.of("id", "q1", "replyTo", topic, "question", "Oil?"));
    assertThat(QuestionIntake.judge(mqtt311(json), ROOMY, REPLIES, NOW))
        .isInstanceOf(QuestionIntake.Forbidden.class);
  }

  @Test
  void forbiddenReplyTo_evenInAnInvalidQuestion_getsNoErrorReplyThere() {
    assertThat(
            QuestionIntake.judge(
                mqtt311("{\"id\":\"q1\",\"replyTo\":\"" + NODE.updateCommand() + "\"}"),
                LIMITS,
                REPLIES,
                NOW))
        .isInstanceOf(QuestionIntake.Forbidden.class);
  }

  @Test
  void forbiddenReplyTopic_reasonNamesTheRuleAndTheTopicBounded() {
    var f =
        (QuestionIntake.Forbidden)
            QuestionIntake.judge(
                mqtt5(utf8("{\"question\":\"Oil?\"}"), null, NODE.updateCommand()),
                LIMITS,
                REPLIES,
                NOW);
    assertThat(f.reason())
        .isEqualTo(
            "Response Topic: the reply topic 'edge/v1/s/n/update/command' is outside this node's"
                + " reply namespace. Reply to a topic below edge/v1/s/n/answers/, to"
                + " fleet/v1/{replica}/reply, or below ops/ (docs/protocol.md, reply topics).");

    var huge =
        (QuestionIntake.Forbidden)
            QuestionIntake.judge(
                mqtt5(utf8("{\"question\":\"Oil?\"}"), null, "edge/" + "x".repeat(5000)),
                LIMITS,
                REPLIES,
                NOW);
    assertThat(huge.reason()).hasSizeLessThan(400).doesNotContain("x".repeat(200));
  }

  @Test
  void replyNamespace_acceptsTheNodesAnswersTheControllersReplyAndOperatorPrefixes() {
    for (String topic :
        List.of(
            "edge/v1/s/n/answers",
            "edge/v1/s/n/answers/line3/q-1",
            "fleet/v1/controller-0/reply",
            "ops/answers/7")) {
      assertThat(
              QuestionIntake.judge(
                  mqtt5(utf8("{\"question\":\"Oil?\"}"), null, topic), LIMITS, REPLIES, NOW))
          .as(topic)
          .isInstanceOf(QuestionIntake.Accepted.class);
    }
  }

  @Test
  void numberAsQuestionText_isRefusedAsInvalidNamingTheTypes() {
    var r =
        (QuestionIntake.Refused)
            QuestionIntake.judge(mqtt5(utf8("{\"question\": 42}"), null), LIMITS, REPLIES, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.INVALID);
    assertThat(r.error().message())
        .isEqualTo(
            "Question: question must be a JSON string but is an integer. Send question as a JSON"
                + " string, as docs/asyncapi.yaml types it.");
  }

  @Test
  void expiredByExpiresAtOrBrokerExpiry_dropped() {
    assertThat(
            QuestionIntake.judge(
                mqtt311(
                    "{\"id\":\"q1\",\"replyTo\":\"ops/a\",\"question\":\"Oil?\","
                        + "\"expiresAt\":\"2026-11-21T07:59:59Z\"}"),
                LIMITS,
                REPLIES,
                NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
    assertThat(
            QuestionIntake.judge(mqtt5(utf8("{\"question\":\"Oil?\"}"), 0L), LIMITS, REPLIES, NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
  }

  @Test
  void questionLongerThanNodeLimit_refusedAsInvalid() {
    var r =
        (QuestionIntake.Refused)
            QuestionIntake.judge(
                mqtt5(utf8("{\"question\":\"" + "y".repeat(101) + "\"}"), null),
                LIMITS,
                REPLIES,
                NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.INVALID);
    assertThat(r.error().message())
        .isEqualTo(
            "Question: the question has 101 characters, more than this node's limit of 100. Ask"
                + " a shorter question.");
  }
}
