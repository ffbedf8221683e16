package io.edgeslm.agent.internal.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.Anomaly;
import io.edgeslm.protocol.ReportStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnomalyDetectorTest {
  static final Instant T0 = Instant.parse("2026-11-21T08:00:00Z");

  static SensorWindow window(String id, Double rate, double... values) {
    List<SensorSample> s = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      s.add(new SensorSample(T0.plusSeconds(10L * i), values[i]));
    }
    return new SensorWindow(id, "°C", new NormalRange(40, 80), rate, s);
  }

  @Test
  void allInRange_isOk_withoutAnomalies() {
    var f =
        AnomalyDetector.detect(List.of(window("t", null, 70, 71, 70.5)), ReportRules.defaults());
    assertThat(f.status()).isEqualTo(ReportStatus.OK);
    assertThat(f.anomalies()).isEmpty();
  }

  @Test
  void slightlyAboveMax_isWarning_withMaxRuleAndWording() {
    var f = AnomalyDetector.detect(List.of(window("t", null, 70, 82)), ReportRules.defaults());
    assertThat(f.status()).isEqualTo(ReportStatus.WARNING);
    Anomaly a = f.anomalies().get(0);
    assertThat(a.rule()).isEqualTo("max");
    assertThat(a.value()).isEqualTo(82);
    assertThat(a.detail()).isEqualTo("82 °C is above the normal maximum 80 °C.");
  }

  @Test
  void farBelowMin_beyondCriticalMargin_isCritical() {
    var f = AnomalyDetector.detect(List.of(window("t", null, 50, 30)), ReportRules.defaults());
    assertThat(f.status()).isEqualTo(ReportStatus.CRITICAL);
    assertThat(f.anomalies().get(0).rule()).isEqualTo("min");
  }

  @Test
  void fastRise_firesRateRule_inUnitPerSecond() {
    var f = AnomalyDetector.detect(List.of(window("t", 0.5, 50, 51, 61)), ReportRules.defaults());
    Anomaly a = f.anomalies().get(0);
    assertThat(a.rule()).isEqualTo("rate");
    assertThat(a.value()).isEqualTo(1.0);
    assertThat(a.unit()).isEqualTo("°C/s");
    assertThat(a.detail()).isEqualTo("Rose at 1 °C/s, faster than the allowed 0.5 °C/s.");
  }

  @Test
  void jumpWithinRange_firesZScore_onlyWithEnoughHistory() {
    double[] steady = {60, 60.5, 59.5, 60, 60.2, 59.8, 60.1, 59.9, 75};
    var f = AnomalyDetector.detect(List.of(window("t", null, steady)), ReportRules.defaults());
    assertThat(f.anomalies()).extracting(Anomaly::rule).containsExactly("zscore");
    assertThat(f.status()).isEqualTo(ReportStatus.WARNING);

    double[] short_ = {60, 60.5, 59.5, 75};
    assertThat(
            AnomalyDetector.detect(List.of(window("t", null, short_)), ReportRules.defaults())
                .anomalies())
        .isEmpty();
  }

  @Test
  void criticalAnomalies_comeFirst() {
    var f =
        AnomalyDetector.detect(
            List.of(window("a", null, 70, 81), window("b", null, 70, 95)), ReportRules.defaults());
    assertThat(f.anomalies()).extracting(Anomaly::sensor).containsExactly("b", "a");
  }
}
