package io.edgeslm.agent.internal.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.inference.InvalidOutputException;
import io.edgeslm.inference.TokenListener;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ReportStatus;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Source;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuleTasksTest {
  static final Instant NOW = Instant.parse("2026-11-21T08:00:02Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  static List<SensorState> snapshot() {
    return List.of(
        new SensorState(
            "press3.oil_temp",
            List.of("Press 3 oil temperature"),
            71.2,
            "°C",
            new NormalRange(40, 80),
            NOW.minusSeconds(2)),
        new SensorState(
            "press4.oil_temp",
            List.of("Press 4 oil temperature"),
            66,
            "°C",
            new NormalRange(40, 80),
            NOW.minusSeconds(5)),
        new SensorState(
            "line1.speed",
            List.of("Line 1 conveyor speed"),
            1.4,
            "m/s",
            new NormalRange(0.5, 2),
            NOW.minusSeconds(300)));
  }

  @Test
  void rulesAnswer_citesOnlyTheNamedSensor_inTheDocumentedWording() {
    TaskOutcome<Answer> out =
        OperatorQaTask.rulesOnly(CLOCK)
            .answer("q1", "What is the oil temp on press 3?", snapshot(), null, TokenListener.NONE);

    Answer a = out.value();
    assertThat(a.answer())
        .isEqualTo("Press 3 oil temperature is 71.2 °C, normal 40–80, read 2 s ago.");
    assertThat(a.source()).isEqualTo(Source.RULES);
    assertThat(a.sensors())
        .containsExactly(new SensorCitation("press3.oil_temp", 71.2, "°C", 2000));
    assertThat(out.fellBack()).isFalse();
  }

  /** Press 3 with oil temperature and pressure, press 4 out of range, a sensor without range. */
  static List<SensorState> plant() {
    return List.of(
        new SensorState(
            "press3.oil_temp",
            List.of("Press 3 oil temperature"),
            71.2,
            "°C",
            new NormalRange(40, 80),
            NOW.minusSeconds(2)),
        new SensorState(
            "press3.oil_pressure",
            List.of("Press 3 oil pressure"),
            2.1,
            "bar",
            new NormalRange(1.5, 3),
            NOW.minusSeconds(4)),
        new SensorState(
            "press4.oil_temp",
            List.of("Press 4 oil temperature"),
            96.5,
            "°C",
            new NormalRange(40, 80),
            NOW.minusSeconds(1)),
        new SensorState(
            "hall.humidity", List.of("Hall humidity"), 41, "%", null, NOW.minusSeconds(10)));
  }

  private static String rules(String question, List<SensorState> snapshot) {
    return OperatorQaTask.rulesOnly(CLOCK)
        .answer(null, question, snapshot, null, TokenListener.NONE)
        .value()
        .answer();
  }

  @Test
  void rulesAnswer_quantityTheMachineHasNoSensorFor_saysSo_andListsWhatItHas() {
    Answer a =
        OperatorQaTask.rulesOnly(CLOCK)
            .answer(null, "What is the vibration of press 3?", plant(), null, TokenListener.NONE)
            .value();

    assertThat(a.answer())
        .isEqualTo(
            "Press 3 has no vibration sensor. Its sensors: Press 3 oil temperature is 71.2 °C,"
                + " normal 40–80, read 2 s ago; Press 3 oil pressure is 2.1 bar, normal 1.5–3,"
                + " read 4 s ago.");
    assertThat(a.sensors())
        .extracting(SensorCitation::sensor)
        .containsExactly("press3.oil_temp", "press3.oil_pressure");
  }

  @Test
  void rulesAnswer_quantityTheMachineHas_answersIt_withoutTheNote() {
    // The matcher keeps press 3's oil temperature too (it shares "oil"), the asked sensor first.
    assertThat(rules("What is the oil pressure of press 3?", plant()))
        .isEqualTo(
            "Press 3 oil pressure is 2.1 bar, normal 1.5–3, read 4 s ago. Press 3 oil temperature"
                + " is 71.2 °C, normal 40–80, read 2 s ago.");
    assertThat(rules("How is press 3 doing?", plant()))
        .isEqualTo(
            "Press 3 oil temperature is 71.2 °C, normal 40–80, read 2 s ago. Press 3 oil pressure"
                + " is 2.1 bar, normal 1.5–3, read 4 s ago.");
  }

  @Test
  void rulesAnswer_anythingOutOfRange_namesTheSensorOutsideItsRange() {
    Answer a =
        OperatorQaTask.rulesOnly(CLOCK)
            .answer(null, "Is anything out of range?", plant(), null, TokenListener.NONE)
            .value();

    assertThat(a.answer())
        .isEqualTo(
            "1 of 3 sensors with a normal range is out of range: Press 4 oil temperature is 96.5"
                + " °C, normal 40–80 (above range), read 1 s ago. 1 sensor has no normal range"
                + " configured: Hall humidity.");
    assertThat(a.sensors()).extracting(SensorCitation::sensor).containsExactly("press4.oil_temp");
  }

  @Test
  void rulesAnswer_outOfRangeQuestion_allWithin_saysSo() {
    assertThat(rules("Are any sensors outside their limits?", snapshot()))
        .isEqualTo("No sensor is out of range: all 3 sensors with a normal range are within it.");
    assertThat(rules("Is press 3 within its normal range?", plant()))
        .isEqualTo("No sensor is out of range: all 2 sensors with a normal range are within it.");
  }

  @Test
  void rulesAnswer_outOfRangeQuestion_withoutAnyRange_saysNoneCanBe() {
    assertThat(rules("Any alarms?", List.of(plant().get(3))))
        .isEqualTo(
            "No sensor here has a normal range configured, so none can be out of range. Sensors:"
                + " Hall humidity.");
  }

  @Test
  void rulesAnswer_unknownSensor_listsKnownOnes() {
    Answer a =
        OperatorQaTask.rulesOnly(CLOCK)
            .answer(null, "How is the boiler pressure?", snapshot(), null, TokenListener.NONE)
            .value();
    assertThat(a.answer())
        .isEqualTo(
            "No sensor on this node matches the question. Known sensors: Press 3 oil temperature,"
                + " Press 4 oil temperature, Line 1 conveyor speed.");
    assertThat(a.sensors()).isEmpty();
  }

  @Test
  void relevantSensors_matchesIdsAndAliases_andSeparatesNumberedMachines() {
    assertThat(OperatorQaTask.relevantSensors("press4 oil temperature?", snapshot()))
        .extracting(SensorState::sensor)
        .containsExactly("press4.oil_temp");
    assertThat(OperatorQaTask.relevantSensors("compare the oil temperatures", snapshot()))
        .extracting(SensorState::sensor)
        .containsExactlyInAnyOrder("press3.oil_temp", "press4.oil_temp");
  }

  @Test
  void describe_outOfRangeAndOldValues_areSaidSo() {
    SensorState hot =
        new SensorState(
            "t", List.of(), 90.5, "°C", new NormalRange(40, 80), NOW.minusSeconds(3900));
    assertThat(OperatorQaTask.describe(hot, NOW))
        .isEqualTo("t is 90.5 °C, normal 40–80 (above range), read 1 h 5 min ago");
  }

  @Test
  void rulesReport_validatesAgainstPublishedSchema_andIsNotMarkedFallback() throws Exception {
    List<SensorWindow> windows =
        List.of(
            new SensorWindow(
                "press3.oil_temp",
                "°C",
                new NormalRange(40, 80),
                null,
                List.of(
                    new SensorSample(NOW.minusSeconds(60), 70),
                    new SensorSample(NOW.minusSeconds(30), 84))),
            new SensorWindow(
                "line1.speed",
                "m/s",
                new NormalRange(0.5, 2),
                null,
                List.of(new SensorSample(NOW.minusSeconds(30), 1.2))));

    SensorReport r = SensorReportTask.rulesOnly(ReportRules.defaults()).run(windows, NOW).value();

    assertThat(r.status()).isEqualTo(ReportStatus.WARNING);
    assertThat(r.summary())
        .isEqualTo(
            "1 anomaly on 1 of 2 sensors: press3.oil_temp 84 °C is above the normal maximum 80"
                + " °C.");
    assertThat(r.recommendation())
        .isEqualTo(
            "Inspect press3.oil_temp and the equipment behind it; confirm the readings before"
                + " changing settings.");
    assertThat(r.provenance().source()).isEqualTo(Source.RULES);
    assertThat(r.provenance().fallback()).isFalse();
    assertThat(r.provenance().window().from()).isEqualTo(NOW.minusSeconds(60));
    SensorReportTask.publishedSchema().validate(Json.mapper().valueToTree(r.content()));
  }

  @Test
  void publishedReportSchema_isLoadedFromProtocol() throws Exception {
    String valid =
        "{\"status\":\"ok\",\"summary\":\"s\",\"anomalies\":[],\"recommendation\":\"r\"}";
    SensorReportTask.publishedSchema().parseAndValidate(valid);
    assertThatThrownBy(
            () ->
                SensorReportTask.publishedSchema()
                    .parseAndValidate(valid.replace("\"ok\"", "\"fine\"")))
        .isInstanceOf(InvalidOutputException.class);
  }
}
