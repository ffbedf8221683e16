package io.edgeslm.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.mqtt.MqttVersion;
import io.edgeslm.mqtt.Topics;
import org.junit.jupiter.api.Test;

class DecisionsTest {

  @Test
  void windowSize_brokerReceiveMaximumBelowOurs_lowersTheWindow() {
    assertThat(InflightWindow.size(16, 10)).isEqualTo(10);
    assertThat(InflightWindow.size(16, 0)).isEqualTo(16);
    assertThat(InflightWindow.size(16, 65_535)).isEqualTo(16);
  }

  @Test
  void window_full_refusesUntilAnAcknowledgementReleasesRoom() throws Exception {
    InflightWindow w = new InflightWindow(2);
    assertThat(w.acquire(0)).isTrue();
    assertThat(w.acquire(0)).isTrue();
    assertThat(w.acquire(0)).isFalse();
    assertThat(w.inUse()).isEqualTo(2);
    w.release();
    assertThat(w.acquire(0)).isTrue();
  }

  @Test
  void versionChoice_auto_fallsBackTo311WhenTheBrokerRefusesVersion5() {
    assertThat(VersionChoice.first(MqttVersion.AUTO)).isEqualTo(MqttVersion.V5);
    assertThat(
            VersionChoice.next(
                MqttVersion.AUTO, MqttVersion.V5, VersionChoice.Failure.UNSUPPORTED_VERSION))
        .isEqualTo(MqttVersion.V3_1_1);
    assertThat(
            VersionChoice.next(
                MqttVersion.AUTO, MqttVersion.V5, VersionChoice.Failure.CLOSED_BEFORE_CONNACK))
        .isEqualTo(MqttVersion.V3_1_1);
  }

  @Test
  void versionChoice_refusedCredentialsOrNetworkDown_keepsVersion5SoTheRealErrorShows() {
    assertThat(VersionChoice.next(MqttVersion.AUTO, MqttVersion.V5, VersionChoice.Failure.OTHER))
        .isEqualTo(MqttVersion.V5);
  }

  @Test
  void versionChoice_pinnedVersion5_neverFallsBack() {
    assertThat(
            VersionChoice.next(
                MqttVersion.V5, MqttVersion.V5, VersionChoice.Failure.UNSUPPORTED_VERSION))
        .isEqualTo(MqttVersion.V5);
    assertThat(VersionChoice.first(MqttVersion.V3_1_1)).isEqualTo(MqttVersion.V3_1_1);
  }

  @Test
  void topics_wildcardFilters_matchAsSection47Says() {
    assertThat(Topics.matches("a/+/c", "a/b/c")).isTrue();
    assertThat(Topics.matches("a/#", "a")).isTrue();
    assertThat(Topics.matches("a/+", "a/b/c")).isFalse();
    assertThat(Topics.matches("#", "$SYS/broker")).isFalse();
  }
}
