package io.edgeslm.agent.internal.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private final Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));

  @Test
  void delay_doublesPerAttemptWithinJitterBounds() {
    assertThat(backoff.delay(0, () -> 0.0)).isEqualTo(Duration.ofMillis(250));
    assertThat(backoff.delay(0, () -> 0.999999)).isEqualTo(Duration.ofMillis(499));
    assertThat(backoff.delay(3, () -> 0.0)).isEqualTo(Duration.ofMillis(2000));
  }

  @Test
  void delay_manyAttempts_staysAtMaximum() {
    assertThat(backoff.delay(1000, () -> 0.999999)).isEqualTo(Duration.ofMillis(29_999));
    assertThat(backoff.delay(62, () -> 0.0)).isEqualTo(Duration.ofSeconds(15));
  }

  @Test
  void constructor_maxBelowInitial_rejected() {
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("backoff needs 0 < initial <= max: got initial=PT2S, max=PT1S");
  }
}
