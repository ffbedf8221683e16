package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class QaAndReportRecordsTest {

  private static final String DIGEST =
      "sha256:0f3c1b8e5d2a4f6c7b9e1d3a5c7e9f1b3d5a7c9e1f3b5d7a9c1e3f5b7d9a1c3e";

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void question_typedByHandWithoutVersion_readsAsVersionOne() throws Exception {
    Question q = Json.read(utf8("{\"question\":\"How hot is line 3?\"}"), Question.class);

    assertThat(q.schemaVersion()).isEqualTo(1);
    assertThat(q.question()).isEqualTo("How hot is line 3?");
    assertThat(q.streamRequested()).isFalse();
    assertThat(Json.writeString(q))
        .isEqualTo("{\"schemaVersion\":1,\"question\":\"How hot is line 3?\"}");
  }

  @Test
  void question_replyToWithoutId_isInvalidWithMessage() {
    assertThatThrownBy(
            () ->
                Json.read(
                    utf8("{\"question\":\"q\",\"replyTo\":\"operators/alice/replies\"}"),
                    Question.class))
        .isInstanceOf(InvalidPayloadException.class)
        .hasMessage(
            "Question: id is required when replyTo is set: got replyTo='operators/alice/replies'"
                + " without an id. Add a client-chosen id so replies can be matched.")
        .extracting(e -> ((InvalidPayloadException) e).code())
        .isEqualTo(ErrorCode.INVALID);
  }

  @Test
  void question_replyToWithWildcard_isRefused() {
    assertThatThrownBy(() -> new Question(1, "q-1", "hello", "operators/+/replies", null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "replyTo must not contain the wildcards + or #: got 'operators/+/replies'. Give a plain"
                + " MQTT topic name such as 'operators/alice/replies'.");
  }

  @Test
  void reply_readAsSealedInterface_yieldsEachSubtype() throws Exception {
    Reply part =
        Json.read(
            utf8("{\"type\":\"part\",\"schemaVersion\":1,\"seq\":0,\"text\":\"Line\"}"),
            Reply.class);
    Reply error =
        Json.read(
            utf8(
                "{\"type\":\"error\",\"schemaVersion\":1,\"code\":\"busy\",\"message\":\"Queue"
                    + " full\",\"retryAfterMs\":2000}"),
            Reply.class);

    assertThat(part).isEqualTo(AnswerPart.of(null, 0, "Line"));
    assertThat(part.isFinal()).isFalse();
    assertThat(error).isEqualTo(ErrorReply.busy(null, "Queue full", 2000));
    assertThat(error.isFinal()).isTrue();
  }

  @Test
  void answer_writtenDirectly_carriesTypeAndReadsBack() throws Exception {
    Answer answer =
        new Answer(
            1,
            "q-7",
            "Line 3 runs at 71.5 °C.",
            List.of(new SensorCitation("line3/temp", 71.5, "°C", 1200)),
            Source.MODEL,
            new ModelRef("plant-qa", 12, DIGEST, "stable"),
            new AnswerTimings(3, 180L, 900, 21),
            Instant.parse("2026-11-21T08:00:00Z"));

    String json = Json.writeString(answer);

    assertThat(json).startsWith("{\"type\":\"answer\",").contains("\"2026-11-21T08:00:00Z\"");
    assertThat(Json.read(utf8(json), Reply.class)).isEqualTo(answer);
    assertThat(Json.read(utf8(json), Answer.class)).isEqualTo(answer);
  }

  @Test
  void sensorReport_roundTripsAndExposesContent() throws Exception {
    ReportContent content =
        new ReportContent(
            ReportStatus.WARNING,
            "Bearing temperature is rising.",
            List.of(new Anomaly("press2/bearing", 88.0, "°C", "max", "Above the 85 °C limit.")),
            "Check lubrication.");
    SensorReport report =
        SensorReport.of(
            content,
            ReportProvenance.rules(
                true,
                new TimeWindow(
                    Instant.parse("2026-11-21T07:55:00Z"), Instant.parse("2026-11-21T08:00:00Z")),
                Instant.parse("2026-11-21T08:00:01Z")));

    SensorReport back = Json.read(Json.write(report), SensorReport.class);

    assertThat(back).isEqualTo(report);
    assertThat(back.content()).isEqualTo(content);
  }

  @Test
  void reportProvenance_modelSourceWithoutModel_isRefused() {
    TimeWindow w = new TimeWindow(Instant.EPOCH, Instant.EPOCH);
    assertThatThrownBy(() -> new ReportProvenance(Source.MODEL, null, false, w, Instant.EPOCH))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "provenance.model must be present exactly when provenance.source is 'model': got"
                + " source='MODEL' without a model. Name the model for model output, omit it for"
                + " rules.");
  }

  @Test
  void anomaly_missingValue_isInvalidNotZero() {
    assertThatThrownBy(
            () ->
                Json.read(
                    utf8("{\"sensor\":\"s\",\"rule\":\"max\",\"detail\":\"d\"}"), Anomaly.class))
        .isInstanceOf(InvalidPayloadException.class)
        .hasMessage("Anomaly: value is required but missing or null. Set value.");
  }

  @Test
  void question_isExpiredAt_comparesWithTheGivenInstant() {
    Instant at = Instant.parse("2026-11-21T08:01:00Z");
    Question q = new Question(1, "q-1", "still there?", "a/b", null, at);

    assertThat(q.isExpiredAt(at.minusMillis(1))).isFalse();
    assertThat(q.isExpiredAt(at)).isTrue();
    assertThat(Question.of("no deadline").isExpiredAt(at)).isFalse();
  }
}
