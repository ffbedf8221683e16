package io.edgeslm.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private final Backoff backoff = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));

  @Test
  void delay_firstFailure_liesBetweenHalfAndInitial() {
    assertThat(backoff.delay(0, () -> 0.0)).isEqualTo(Duration.ofMillis(100));
    assertThat(backoff.delay(0, () -> 0.999_999)).isEqualTo(Duration.ofMillis(199));
  }

  @Test
  void delay_doublesPerFailure() {
    assertThat(backoff.delay(3, () -> 0.0)).isEqualTo(Duration.ofMillis(800));
  }

  @Test
  void delay_brokerDownForHours_neverExceedsMax() {
    for (int attempt : new int[] {6, 31, 62, 1000, Integer.MAX_VALUE}) {
      assertThat(backoff.delay(attempt, () -> 0.999_999))
          .isLessThanOrEqualTo(Duration.ofSeconds(10));
      assertThat(backoff.delay(attempt, () -> 0.0)).isEqualTo(Duration.ofSeconds(5));
    }
  }

  @Test
  void delay_fleetLosingOneBroker_spreadsReconnectsAcrossTheJitterRange() {
    Duration low = backoff.delay(2, () -> 0.1);
    Duration high = backoff.delay(2, () -> 0.9);
    assertThat(low).isEqualTo(Duration.ofMillis(440));
    assertThat(high).isEqualTo(Duration.ofMillis(760));
  }

  @Test
  void delay_brokenRandomSource_isClampedIntoRange() {
    assertThat(backoff.delay(0, () -> 7.0)).isEqualTo(Duration.ofMillis(200));
    assertThat(backoff.delay(0, () -> -3.0)).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void new_maxBelowInitial_isRejectedNamingBoth() {
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Backoff needs 0 < initial <= max: got initial=PT2S, max=PT1S. Raise max or lower initial.");
  }
}
