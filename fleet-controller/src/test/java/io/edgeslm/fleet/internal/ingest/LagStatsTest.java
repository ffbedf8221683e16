package io.edgeslm.fleet.internal.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LagStatsTest {

  @Test
  void quantile_belowAMinute_isExactToTheMillisecond() {
    LagStats s = new LagStats();
    for (int i = 1; i <= 100; i++) {
      s.record(i * 10L);
    }
    assertThat(s.quantile(0.99)).isEqualTo(990);
    assertThat(s.quantile(1.0)).isEqualTo(1000);
    assertThat(s.count()).isEqualTo(100);
  }

  @Test
  void quantile_pastAMinute_isTheWholeSecondItFallsIn() {
    LagStats s = new LagStats();
    s.record(224_750);
    assertThat(s.quantile(1.0)).isEqualTo(224_000);
    s.record(Long.MAX_VALUE);
    assertThat(s.quantile(1.0)).isEqualTo(60_000 + (86_400 - 60) * 1000L);
    s.record(-5);
    assertThat(s.quantile(0.01)).isZero();
  }
}
