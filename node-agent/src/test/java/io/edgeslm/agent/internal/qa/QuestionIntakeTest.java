package io.edgeslm.agent.internal.qa;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.protocol.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class QuestionIntakeTest {

  private static final Instant NOW = Instant.parse("2026-11-21T08:00:00Z");
  private static final QuestionIntake.Limits LIMITS =
      new QuestionIntake.Limits(512, 100, Duration.ofSeconds(30));

  static InboundMessage mqtt5(byte[] payload, Long expiry) {
    return new InboundMessage(
        "edge/v1/s/n/ask",
        payload,
        1,
        false,
        Optional.of("ops/answers"),
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
        QuestionIntake.judge(mqtt5(utf8("{\"question\":\"Oil temperature?\"}"), 10L), LIMITS, NOW);
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
            mqtt311("{\"id\":\"q1\",\"replyTo\":\"ops/a\",\"question\":\"Oil?\"}"), LIMITS, NOW);
    var a = (QuestionIntake.Accepted) v;
    assertThat(a.route().topic()).isEqualTo("ops/a");
    assertThat(a.route().id()).contains("q1");
    assertThat(a.deadline()).isEqualTo(NOW.plusSeconds(30));
  }

  @Test
  void oversized_refusedWithOversized() {
    byte[] big = utf8("{\"question\":\"" + "x".repeat(600) + "\"}");
    var r = (QuestionIntake.Refused) QuestionIntake.judge(mqtt5(big, null), LIMITS, NOW);
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
                mqtt5(new byte[] {'{', (byte) 0xc3, 0x28, '}'}, null), LIMITS, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.NOT_UTF8);
  }

  @Test
  void malformedJson_refusedWithMalformedOnResponseTopic() {
    var r =
        (QuestionIntake.Refused) QuestionIntake.judge(mqtt5(utf8("{question:"), null), LIMITS, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.MALFORMED);
    assertThat(r.route().topic()).isEqualTo("ops/answers");
  }

  @Test
  void invalidQuestion_on311_refusedOnReplyToWithIdEchoed() {
    var r =
        (QuestionIntake.Refused)
            QuestionIntake.judge(mqtt311("{\"id\":\"q9\",\"replyTo\":\"ops/a\"}"), LIMITS, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.INVALID);
    assertThat(r.error().id()).isEqualTo("q9");
    assertThat(r.route().topic()).isEqualTo("ops/a");
  }

  @Test
  void noReplyRoute_dropped() {
    assertThat(QuestionIntake.judge(mqtt311("{\"question\":\"Oil?\"}"), LIMITS, NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
    assertThat(QuestionIntake.judge(mqtt311("not json"), LIMITS, NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
  }

  @Test
  void wildcardReplyTo_neverUsedAsRoute() {
    assertThat(
            QuestionIntake.judge(
                mqtt311("{\"id\":\"q1\",\"replyTo\":\"ops/#\",\"question\":\"Oil?\"}"),
                LIMITS,
                NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
  }

  @Test
  void expiredByExpiresAtOrBrokerExpiry_dropped() {
    assertThat(
            QuestionIntake.judge(
                mqtt311(
                    "{\"id\":\"q1\",\"replyTo\":\"ops/a\",\"question\":\"Oil?\","
                        + "\"expiresAt\":\"2026-11-21T07:59:59Z\"}"),
                LIMITS,
                NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
    assertThat(QuestionIntake.judge(mqtt5(utf8("{\"question\":\"Oil?\"}"), 0L), LIMITS, NOW))
        .isInstanceOf(QuestionIntake.Dropped.class);
  }

  @Test
  void questionLongerThanNodeLimit_refusedAsInvalid() {
    var r =
        (QuestionIntake.Refused)
            QuestionIntake.judge(
                mqtt5(utf8("{\"question\":\"" + "y".repeat(101) + "\"}"), null), LIMITS, NOW);
    assertThat(r.error().code()).isEqualTo(ErrorCode.INVALID);
    assertThat(r.error().message())
        .isEqualTo(
            "Question: the question has 101 characters, more than this node's limit of 100. Ask"
                + " a shorter question.");
  }
}
