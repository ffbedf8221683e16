package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class JsonTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static InvalidPayloadException refusal(byte[] payload, Class<?> type, int max) {
    try {
      Json.read(payload, type, max);
    } catch (InvalidPayloadException e) {
      return e;
    }
    throw new AssertionError("expected a refusal");
  }

  @Test
  void read_oversizedPayload_isRefusedBeforeParsing() {
    // Not JSON at all: a parser would complain about syntax; the size check must come first.
    byte[] payload = new byte[100];
    payload[0] = '{';

    InvalidPayloadException e = refusal(payload, Question.class, 64);

    assertThat(e.code()).isEqualTo(ErrorCode.OVERSIZED);
    assertThat(e)
        .hasMessage(
            "Question: payload of 100 bytes exceeds the limit of 64 bytes. Send a smaller"
                + " message.");
  }

  @Test
  void read_invalidUtf8_isRefusedAsNotUtf8() {
    byte[] payload = {'{', '"', 'q', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};

    InvalidPayloadException e = refusal(payload, Question.class, 1024);

    assertThat(e.code()).isEqualTo(ErrorCode.NOT_UTF8);
    assertThat(e).hasMessage("Question: the payload is not valid UTF-8. Encode the JSON as UTF-8.");
  }

  @Test
  void read_brokenJson_isMalformed() {
    InvalidPayloadException e = refusal(utf8("{\"question\": "), Question.class, 1024);

    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
    assertThat(e.getMessage()).startsWith("Question: the payload is not well-formed JSON (");
  }

  @Test
  void read_trailingGarbage_isMalformed() {
    assertThat(refusal(utf8("{\"question\":\"q\"} x"), Question.class, 1024).code())
        .isEqualTo(ErrorCode.MALFORMED);
  }

  @Test
  void read_duplicateField_isMalformed() {
    assertThat(
            refusal(utf8("{\"question\":\"a\",\"question\":\"b\"}"), Question.class, 1024).code())
        .isEqualTo(ErrorCode.MALFORMED);
  }

  @Test
  void read_deepNesting_isRefused() {
    String deep = "{\"question\":\"q\",\"x\":" + "[".repeat(40) + "]".repeat(40) + "}";

    assertThat(refusal(utf8(deep), Question.class, 4096).code()).isEqualTo(ErrorCode.MALFORMED);
  }

  @Test
  void read_newerSchemaVersion_isUnsupportedVersion() {
    InvalidPayloadException e =
        refusal(utf8("{\"schemaVersion\":2,\"state\":\"online\"}"), NodeStatus.class, 1024);

    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
    assertThat(e)
        .hasMessage(
            "NodeStatus: schemaVersion 2 is newer than this reader's 1. Upgrade the receiver or"
                + " send schemaVersion 1.");
  }

  @Test
  void read_unknownFields_areIgnored() throws Exception {
    NodeStatus s =
        Json.read(
            utf8(
                "{\"schemaVersion\":1,\"state\":\"online\",\"battery\":{\"pct\":80},"
                    + "\"tags\":[1,2]}"),
            NodeStatus.class);

    assertThat(s).isEqualTo(new NodeStatus(1, NodeState.ONLINE, null, null));
  }

  @Test
  void read_unknownEnumValue_isInvalidAndNamesTheField() {
    InvalidPayloadException e =
        refusal(utf8("{\"schemaVersion\":1,\"state\":\"sleeping\"}"), NodeStatus.class, 1024);

    assertThat(e.code()).isEqualTo(ErrorCode.INVALID);
    assertThat(e.getMessage()).startsWith("NodeStatus: state has the wrong type or value");
  }

  @Test
  void read_missingRequiredField_isInvalidWithTheRecordsMessage() {
    InvalidPayloadException e = refusal(utf8("{\"schemaVersion\":1}"), NodeStatus.class, 1024);

    assertThat(e.code()).isEqualTo(ErrorCode.INVALID);
    assertThat(e).hasMessage("NodeStatus: state is required but missing. Set state.");
  }

  @Test
  void read_emptyPayload_isMalformed() {
    assertThat(refusal(new byte[0], Question.class, 1024).code()).isEqualTo(ErrorCode.MALFORMED);
  }

  @Test
  void write_instantsAsIsoStrings_andLeavesOutNulls() {
    String json = Json.writeString(NodeStatus.online(Instant.parse("2026-11-21T08:00:00Z")));

    assertThat(json)
        .isEqualTo("{\"schemaVersion\":1,\"state\":\"online\",\"since\":\"2026-11-21T08:00:00Z\"}");
  }

  @Test
  void refusal_becomesAnErrorReplyForTheSender() {
    InvalidPayloadException e = refusal(new byte[100], Question.class, 10);

    ErrorReply reply = e.toReply("q-9");

    assertThat(reply.code()).isEqualTo(ErrorCode.OVERSIZED);
    assertThat(reply.id()).isEqualTo("q-9");
    assertThat(reply.message()).isEqualTo(e.getMessage());
  }

  @Test
  void sensorReading_acceptsBareNumberObjectAndEpochMillis() throws Exception {
    assertThat(Json.read(utf8("71.5"), SensorReading.class)).isEqualTo(SensorReading.of(71.5));
    assertThat(
            Json.read(utf8("{\"value\":3,\"unit\":\"bar\",\"extra\":true}"), SensorReading.class))
        .isEqualTo(new SensorReading(3, "bar", null));
    assertThat(Json.read(utf8("{\"value\":1,\"ts\":1795248000000}"), SensorReading.class).ts())
        .isEqualTo(Instant.ofEpochMilli(1795248000000L));
  }

  @Test
  void sensorReading_textValue_isInvalidWithExample() {
    InvalidPayloadException e = refusal(utf8("{\"value\":\"hot\"}"), SensorReading.class, 1024);

    assertThat(e.code()).isEqualTo(ErrorCode.INVALID);
    assertThat(e)
        .hasMessage(
            "SensorReading: value is required and must be a JSON number: got '\"hot\"'. Publish"
                + " e.g. {\"value\":71.5}.");
  }

  // Strict typing: every field of an inbound record has the JSON type docs/asyncapi.yaml gives it.

  @Test
  void read_numberWhereAStringIsDue_isRefusedNamingFieldAndTypes() {
    InvalidPayloadException e = refusal(utf8("{\"question\": 42}"), Question.class, 1024);

    assertThat(e.code()).isEqualTo(ErrorCode.INVALID);
    assertThat(e)
        .hasMessage(
            "Question: question must be a JSON string but is an integer. Send question as a JSON"
                + " string, as docs/asyncapi.yaml types it.");
  }

  @Test
  void read_objectOrArrayWhereAStringIsDue_isRefused() {
    assertThat(refusal(utf8("{\"question\": {\"a\": 1}}"), Question.class, 1024))
        .hasMessageStartingWith("Question: question must be a JSON string but is an object.");
    assertThat(refusal(utf8("{\"question\": [\"a\"]}"), Question.class, 1024))
        .hasMessageStartingWith("Question: question must be a JSON string but is an array.");
  }

  @Test
  void read_booleanWhereAStringIsDue_isRefused() {
    assertThat(
            refusal(
                utf8("{\"question\":\"q\",\"id\":true,\"replyTo\":\"operator/a\"}"),
                Question.class,
                1024))
        .hasMessageStartingWith("Question: id must be a JSON string but is a boolean.");
  }

  @Test
  void read_stringWhereABooleanIsDue_isRefused() {
    assertThat(refusal(utf8("{\"question\":\"q\",\"stream\":\"true\"}"), Question.class, 1024))
        .hasMessage(
            "Question: stream must be a JSON boolean but is a string. Send stream as a JSON"
                + " boolean, as docs/asyncapi.yaml types it.");
    assertThat(refusal(utf8("{\"question\":\"q\",\"stream\":1}"), Question.class, 1024))
        .hasMessageStartingWith("Question: stream must be a JSON boolean but is an integer.");
  }

  @Test
  void read_numberWhereAnInstantIsDue_isRefused() {
    assertThat(refusal(utf8("{\"question\":\"q\",\"expiresAt\":1795248000}"), Question.class, 1024))
        .hasMessageStartingWith("Question: expiresAt must be a JSON string but is an integer.");
  }

  @Test
  void read_stringOrFractionWhereAnIntegerIsDue_isRefused() {
    assertThat(refusal(utf8("{\"schemaVersion\":\"1\",\"question\":\"q\"}"), Question.class, 1024))
        .hasMessageStartingWith("Question: schemaVersion must be a JSON integer but is a string.");
    assertThat(refusal(utf8("{\"schemaVersion\":1.5,\"question\":\"q\"}"), Question.class, 1024))
        .hasMessageStartingWith(
            "Question: schemaVersion must be a JSON integer but is a fractional number.");
  }

  @Test
  void read_numberWhereAnEnumIsDue_isRefused() {
    assertThat(refusal(utf8("{\"schemaVersion\":1,\"state\":0}"), NodeStatus.class, 1024))
        .hasMessageStartingWith("NodeStatus: state must be a JSON string but is an integer.");
  }

  @Test
  void read_stringWhereANumberIsDue_isRefused() {
    assertThat(
            refusal(
                utf8("{\"schemaVersion\":1,\"tokensPerSecond\":\"12.5\"}"), NodeHealth.class, 4096))
        .hasMessageStartingWith(
            "NodeHealth: tokensPerSecond must be a JSON number but is a string.");
  }

  @Test
  void read_integerWhereANumberIsDue_isAccepted() throws Exception {
    NodeHealth h =
        Json.read(
            utf8(
                "{\"schemaVersion\":1,\"at\":\"2026-11-21T08:00:00Z\",\"intervalSeconds\":30,"
                    + "\"ready\":true,\"source\":\"rules\",\"queueDepth\":0,\"requests\":0,"
                    + "\"errors\":0,\"ramUsedBytes\":1,\"ramTotalBytes\":2,\"diskFreeBytes\":3,"
                    + "\"cpuTemperatureC\":42}"),
            NodeHealth.class);

    assertThat(h.cpuTemperatureC()).isEqualTo(42.0);
  }

  /** The hand-written part writer gives the mapper's bytes, on random ids and texts. */
  @Test
  void answerPart_writtenByHand_isTheMappersJson() throws Exception {
    java.util.Random r = new java.util.Random(18);
    // What a part may hold: no control characters but tab and line breaks (the record refuses
    // them), so the escapes seen are the quote, the backslash and those three.
    String[] pieces = {
      "a", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u2028", "é", "°C", "🙂", "<", "&", "\ufffd",
      "\u00a0"
    };
    for (int i = 0; i < 2_000; i++) {
      StringBuilder text = new StringBuilder();
      int n = r.nextInt(12);
      for (int k = 0; k < n; k++) {
        text.append(pieces[r.nextInt(pieces.length)]);
      }
      String id =
          r.nextInt(4) == 0 ? null : "q-" + r.nextInt(1000) + (r.nextBoolean() ? ".a:b" : "");
      AnswerPart p =
          AnswerPart.of(
              id, r.nextInt(5) == 0 ? Integer.MAX_VALUE : r.nextInt(300), text.toString());

      assertThat(new String(Json.write(p), StandardCharsets.UTF_8))
          .isEqualTo(new String(Json.mapper().writeValueAsBytes(p), StandardCharsets.UTF_8));
      assertThat(Json.read(Json.write(p), Reply.class, 1 << 16)).isEqualTo(p);
    }
  }
}
