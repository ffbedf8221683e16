package io.edgeslm.agent.internal.tasks;

import static org.assertj.core.api.Assertions.assertThat;

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
  void userPart_carriesTheLiveValuesAndTheQuestion_last() {
    String user =
        QaPrompt.user(QaPrompt.valueLine(sensor("press3.oil", 90, T0), T0.plusSeconds(2)), "Oil?");
    assertThat(user)
        .isEqualTo(
            "Live values:\n- press3.oil: 90 °C (above range), read 2 s ago\n\nQuestion: Oil?");
  }
}
