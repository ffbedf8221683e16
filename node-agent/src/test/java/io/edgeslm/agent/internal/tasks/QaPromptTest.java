package io.edgeslm.agent.internal.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.inference.InferenceException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class QaPromptTest {
  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  static SensorState sensor(String id, double value, Instant readAt) {
    return new SensorState(id, List.of(), value, "°C", new NormalRange(40, 80), readAt);
  }

  @Test
  void systemPart_isTheSameForAnotherQuestion_newValues_andAnotherArrivalOrder() {
    List<SensorState> first = List.of(sensor("press3.oil", 71.2, T0), sensor("pump2.temp", 50, T0));
    List<SensorState> later =
        List.of(sensor("pump2.temp", 55, T0.plusSeconds(9)), sensor("press3.oil", 90, T0));

    assertThat(QaPrompt.system("Line 2 runs nights.", later))
        .isEqualTo(QaPrompt.system("Line 2 runs nights.", first));
  }

  @Test
  void systemPart_holdsNoValueAndNoAge_soNothingInItChangesBetweenQuestions() {
    String system = QaPrompt.system(null, List.of(sensor("press3.oil", 71.2, T0)));
    assertThat(system)
        .startsWith(QaPrompt.INSTRUCTIONS)
        .endsWith("Sensors on this node:\n- press3.oil: °C, normal 40–80\n")
        .doesNotContain("71.2")
        .doesNotContain("ago");
  }

  @Test
  void userPart_valuesWithTheTimeTheyWereRead_thenTheTimeNow_theNamedSensors_andTheQuestion() {
    SensorState oil = sensor("press3.oil", 90, T0);
    Instant now = T0.plusSeconds(2);
    String user = QaPrompt.user(QaPrompt.valueLine(oil, now), List.of(oil), now, "Oil?");
    assertThat(user)
        .isEqualTo(
            "Sensor values:\n- press3.oil: 90 °C (above range), read at 10:00:00\n\n"
                + "Now: 2026-12-01 10:00:02 UTC\n"
                + "The question is about: press3.oil.\n"
                + "Question: Oil?");
  }

  @Test
  void valueLine_ofAnotherDay_carriesTheDate_andAStaleValueSaysWhy() {
    SensorState old =
        new SensorState(
            "press3.oil",
            List.of(),
            72.5,
            "°C",
            new NormalRange(40, 80),
            T0.minusSeconds(86_400),
            "edge node press-3 went offline (NDEATH)");
    assertThat(QaPrompt.valueLine(old, T0))
        .isEqualTo(
            "- press3.oil: 72.5 °C, read at 2026-11-30 10:00:00;"
                + " stale: edge node press-3 went offline (NDEATH)\n");
  }

  /** Three sensors with aliases, as a node's store hands them over (not sorted). */
  static List<SensorState> plant() {
    return List.of(
        new SensorState(
            "press4.oil_temp",
            List.of("Press 4 oil temperature"),
            66,
            "°C",
            new NormalRange(40, 80),
            T0.minusSeconds(5)),
        new SensorState(
            "press3.oil_temp",
            List.of("Press 3 oil temperature"),
            71.2,
            "°C",
            new NormalRange(40, 80),
            T0.minusSeconds(2)),
        new SensorState(
            "line1.pressure",
            List.of("Line 1 pressure"),
            2.1,
            "bar",
            new NormalRange(1.5, 3),
            T0.minusSeconds(9)));
  }

  /** About four characters a token, as a counter without an engine. */
  static QaPrompt.Layout layout(String question, List<SensorState> snapshot, Instant now)
      throws InferenceException {
    return QaPrompt.layout(
        question,
        OperatorQaTask.relevantSensors(question, snapshot),
        snapshot,
        "Line 1 runs nights.",
        now,
        2048,
        text -> text.length() / 4 + 1);
  }

  /** The prompt as the engine sees it: system message, then user message. */
  static String rendered(QaPrompt.Layout l) {
    return l.system() + "\n<user>\n" + l.user();
  }

  static int commonPrefix(String a, String b) {
    int n = 0;
    while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
      n++;
    }
    return n;
  }

  @Test
  void nextQuestion_onUnchangedSensors_twentySecondsLater_repeatsEverySensorLine()
      throws Exception {
    String first = rendered(layout("Is anything out of range?", plant(), T0.plusSeconds(1)));
    String next =
        rendered(layout("Which sensor reads highest right now?", plant(), T0.plusSeconds(21)));

    String shared = next.substring(0, commonPrefix(first, next));
    // Every value line (name, value, when it was read) is in the part the engine has cached.
    assertThat(shared)
        .contains("Line 1 runs nights.")
        .contains("Press 3 oil temperature: 71.2 °C")
        .contains("Press 4 oil temperature: 66 °C")
        .contains("Line 1 pressure: 2.1 bar");
    for (String line : next.split("\n")) {
      if (line.startsWith("- ")) {
        assertThat(shared).as("value or catalogue line '%s' is shared", line).contains(line + "\n");
      }
    }
    assertThat(next.substring(shared.length()))
        .doesNotContain("\n- ")
        .endsWith("Question: Which sensor reads highest right now?");
  }

  @Test
  void questionsNamingDifferentSensors_getTheSameSensorBlock_inTheSameOrder() throws Exception {
    QaPrompt.Layout oil = layout("What is the oil temperature on press 4?", plant(), T0);
    QaPrompt.Layout line = layout("What is the pressure on line 1?", plant(), T0);

    assertThat(oil.system()).isEqualTo(line.system());
    String block = oil.user().substring(0, oil.user().indexOf("\n\n") + 1);
    // Oldest reading first: line 1 (9 s), press 4 (5 s), press 3 (2 s).
    assertThat(block)
        .isEqualTo(
            "Sensor values:\n"
                + "- Line 1 pressure: 2.1 bar, read at 09:59:51\n"
                + "- Press 4 oil temperature: 66 °C, read at 09:59:55\n"
                + "- Press 3 oil temperature: 71.2 °C, read at 09:59:58\n");
    assertThat(line.user()).startsWith(block + "\nNow: ");
    // Each answer still cites what its question is about.
    assertThat(oil.cited()).extracting(SensorState::sensor).containsExactly("press4.oil_temp");
    assertThat(line.cited()).extracting(SensorState::sensor).containsExactly("line1.pressure");
  }

  @Test
  void aQuestionNamingNoSensor_citesEverySensorGiven() throws Exception {
    assertThat(layout("Is everything fine?", plant(), T0).cited())
        .extracting(SensorState::sensor)
        .containsExactly("line1.pressure", "press4.oil_temp", "press3.oil_temp");
  }

  @Test
  void aBudgetTooSmallForAll_keepsTheQuestionsOwnSensor_stillInValueOrder() throws Exception {
    List<SensorState> plant = plant();
    QaPrompt.Layout l =
        QaPrompt.layout(
            "What is the oil temperature on press 3?",
            OperatorQaTask.relevantSensors("What is the oil temperature on press 3?", plant),
            plant,
            null,
            T0,
            64,
            // 30 tokens a line: no room for the catalogue (90 > 32), two of three value lines.
            text -> 30 * (int) text.chars().filter(c -> c == '\n').count());
    assertThat(l.system()).doesNotContain("Sensors on this node");
    assertThat(l.cited()).extracting(SensorState::sensor).containsExactly("press3.oil_temp");
    assertThat(l.user())
        .startsWith(
            "Sensor values:\n"
                + "- Line 1 pressure: 2.1 bar, read at 09:59:51\n"
                + "- Press 3 oil temperature: 71.2 °C, read at 09:59:58\n\n")
        .doesNotContain("Press 4");
  }
}
