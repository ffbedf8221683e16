package io.edgeslm.fleet.internal.rest;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.fleet.internal.store.HealthPoint;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The node page's health chart geometry: axes, units, time range. */
class HealthChartTest {

  static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");

  static HealthPoint point(String at, Double tokensPerSecond) {
    return new HealthPoint(
        Instant.parse(at),
        6,
        true,
        "model",
        "sha256:" + "c".repeat(64),
        tokensPerSecond,
        700L,
        0,
        100,
        0,
        1L << 30,
        8L << 30,
        10L << 30,
        55.0,
        0.93);
  }

  @Test
  void of_24h_placesPointsByTime_withRoundValueTicksAndUtcTimeTicks() {
    List<HealthPoint> points =
        List.of(
            point("2026-12-02T12:00:00Z", 18.5),
            point("2026-12-02T06:00:00Z", null),
            point("2026-12-02T00:00:00Z", 10.0),
            point("2026-12-01T11:00:00Z", 99.0)); // before the range
    HealthChart c =
        HealthChart.of(
            "Tokens per second",
            "tokens/s",
            points,
            HealthPoint::tokensPerSecond,
            HealthChart.Range.H24,
            NOW);

    assertThat(c.values()).isEqualTo(2);
    assertThat(c.line()).isEqualTo("386.0,98.0 708.0,24.9");
    assertThat(c.yTicks())
        .extracting(HealthChart.Tick::label)
        .containsExactly("0", "5", "10", "15", "20");
    assertThat(c.yTicks().get(0).at()).isEqualTo(HealthChart.BOTTOM);
    assertThat(c.yTicks().get(4).at()).isEqualTo(HealthChart.TOP);
    assertThat(c.xTicks())
        .extracting(HealthChart.Tick::label)
        .containsExactly("12:00", "16:00", "20:00", "00:00", "04:00", "08:00", "12:00");
    assertThat(c.xTicks().get(0).at()).isEqualTo(HealthChart.LEFT);
    assertThat(c.xTicks().get(6).at()).isEqualTo(HealthChart.RIGHT);
  }

  @Test
  void of_7d_labelsDays_andNoDataGivesAnEmptyLineOnAUnitAxis() {
    HealthChart c =
        HealthChart.of("p95 latency", "ms", List.of(), p -> null, HealthChart.Range.of("7d"), NOW);

    assertThat(c.values()).isZero();
    assertThat(c.line()).isEmpty();
    assertThat(c.yTicks())
        .extracting(HealthChart.Tick::label)
        .containsExactly("0", "0.25", "0.5", "0.75", "1");
    assertThat(c.xTicks())
        .extracting(HealthChart.Tick::label)
        .containsExactly("11-26", "11-27", "11-28", "11-29", "11-30", "12-01", "12-02");
  }

  @Test
  void range_of_unknownOrAbsent_isTheLast24Hours() {
    assertThat(HealthChart.Range.of(null)).isEqualTo(HealthChart.Range.H24);
    assertThat(HealthChart.Range.of("2y")).isEqualTo(HealthChart.Range.H24);
    assertThat(HealthChart.Range.of("1h")).isEqualTo(HealthChart.Range.H1);
  }

  @Test
  void niceCeiling_isTheNextOneTwoTwoAndAHalfOrFiveTimesAPowerOfTen() {
    assertThat(HealthChart.niceCeiling(0)).isEqualTo(1);
    assertThat(HealthChart.niceCeiling(0.93)).isEqualTo(1);
    assertThat(HealthChart.niceCeiling(18.5)).isEqualTo(20);
    assertThat(HealthChart.niceCeiling(250)).isEqualTo(250);
    assertThat(HealthChart.niceCeiling(251)).isEqualTo(500);
    assertThat(HealthChart.niceCeiling(1200)).isEqualTo(2000);
    assertThat(HealthChart.number(6.25)).isEqualTo("6.25");
    assertThat(HealthChart.number(12.5)).isEqualTo("12.5");
    assertThat(HealthChart.number(1250)).isEqualTo("1250");
  }
}
