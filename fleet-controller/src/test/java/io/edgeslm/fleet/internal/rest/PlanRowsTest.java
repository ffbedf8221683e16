package io.edgeslm.fleet.internal.rest;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.fleet.ErrorAction;
import io.edgeslm.fleet.HealthGate;
import io.edgeslm.fleet.MaintenanceWindow;
import io.edgeslm.fleet.NodeSelector;
import io.edgeslm.fleet.Thresholds;
import io.edgeslm.fleet.Wave;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlanRowsTest {

  @Test
  void wave_oneNodeIsSingular_percentHasOneDecimal_approvalNamed() {
    assertThat(PlanRows.wave(Wave.count(1))).isEqualTo("1 node");
    assertThat(PlanRows.wave(new Wave(2, null, true))).isEqualTo("2 nodes, approval");
    assertThat(PlanRows.wave(Wave.percent(100.0 / 3))).isEqualTo("33.3%");
    assertThat(PlanRows.wave(new Wave(null, 100.0, true))).isEqualTo("100.0%, approval");
  }

  @Test
  void selector_everyConditionInWords_sortedSoThePageIsStable() {
    assertThat(PlanRows.selector(NodeSelector.ALL)).isEqualTo("every node");
    assertThat(
            PlanRows.selector(
                new NodeSelector(
                    Set.of("plant-b", "plant-a"),
                    Set.of("arm64"),
                    Set.of("gw-8g"),
                    4L << 30,
                    Map.of("line", "2", "hall", "east"))))
        .isEqualTo(
            "sites plant-a, plant-b; architecture arm64; device class gw-8g; at least 4.0 GiB of"
                + " RAM; labels hall=east, line=2");
  }

  @Test
  void thresholdsAndGate_sayWhatTheEngineEnforces() {
    assertThat(
            PlanRows.thresholds(
                new Thresholds(90, 10, ErrorAction.ROLLBACK, Duration.ofMinutes(20))))
        .isEqualTo(
            "advances at 90% installed; above 10% failed: abort and roll back; a node without a"
                + " result after 20 min counts as failed");
    assertThat(PlanRows.gate(null)).startsWith("none");
    assertThat(
            PlanRows.gate(
                new HealthGate(
                    Duration.ofMinutes(5),
                    Duration.ofHours(1),
                    0.8,
                    1.25,
                    0.01,
                    0.5,
                    75,
                    Duration.ofMinutes(90))))
        .contains("after 5 min of soak")
        .contains("in the 1 h before the assignment")
        .contains("tokens/s at least 0.8×, p95 latency at most 1.25×")
        .contains(
            "error rate at most 1 percentage point higher, lowest activation score at least 0.5")
        .endsWith("unless 75% of the installed nodes report within 1 h 30 min after the soak");
  }

  @Test
  void windows_daysInWeekOrder_anyTimeWhenNone() {
    assertThat(PlanRows.windows(List.of())).isEqualTo("any time");
    assertThat(
            PlanRows.windows(
                List.of(
                    new MaintenanceWindow(
                        Set.of(DayOfWeek.SUNDAY, DayOfWeek.SATURDAY),
                        LocalTime.of(22, 0),
                        LocalTime.of(4, 0),
                        ZoneId.of("Europe/Berlin")),
                    new MaintenanceWindow(
                        Set.of(), LocalTime.of(1, 30), LocalTime.of(2, 0), ZoneId.of("UTC")))))
        .isEqualTo("Saturday, Sunday 22:00–04:00 Europe/Berlin · every day 01:30–02:00 UTC");
  }

  @Test
  void duration_andNumber_readLikeAPerson() {
    assertThat(PlanRows.duration(Duration.ofSeconds(45))).isEqualTo("45 s");
    assertThat(PlanRows.duration(Duration.ofMinutes(20))).isEqualTo("20 min");
    assertThat(PlanRows.duration(Duration.ofHours(1))).isEqualTo("1 h");
    assertThat(PlanRows.duration(Duration.ofMinutes(90))).isEqualTo("1 h 30 min");
    assertThat(PlanRows.duration(Duration.ofDays(2))).isEqualTo("2 d");
    assertThat(PlanRows.duration(Duration.ofSeconds(90))).isEqualTo("90 s");
    assertThat(PlanRows.number(90)).isEqualTo("90");
    assertThat(PlanRows.number(0.8)).isEqualTo("0.8");
    assertThat(PlanRows.number(1.25)).isEqualTo("1.25");
    assertThat(PlanRows.points(2.5)).isEqualTo("2.5 percentage points");
  }
}
