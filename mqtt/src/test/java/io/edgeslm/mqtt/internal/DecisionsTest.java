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

  @Test
  void topics_sharedSubscriptionFilter_matchesTheTopicsOfItsFilterPart() {
    // Section 4.8.2: the broker delivers under the topic name, never with the $share prefix.
    assertThat(Topics.matches("$share/fleet/edge/v1/+/+/health", "edge/v1/s/n/health")).isTrue();
    assertThat(Topics.matches("$share/fleet/edge/v1/+/+/health", "edge/v1/s/n/birth")).isFalse();
    assertThat(Topics.matches("$share/fleet/#", "fleet/x")).isTrue();
    assertThat(Topics.matches("$share/g/#", "$SYS/broker")).isFalse();
  }

  @Test
  void floodOfChunks_beyondTheByteBound_isDroppedAndCounted_andRoomReturnsAfterHandling() {
    InboundBudget b = new InboundBudget(1000);
    assertThat(b.tryAdmit(600)).isTrue();
    assertThat(b.tryAdmit(400)).isTrue();
    assertThat(b.tryAdmit(1)).isFalse();
    assertThat(b.dropped()).isEqualTo(1);
    b.release(600);
    assertThat(b.tryAdmit(500)).isTrue();
    assertThat(b.queuedBytes()).isEqualTo(900);
  }

  @Test
  void oneMessageLargerThanTheBound_isStillDelivered_whenNothingWaits() {
    InboundBudget b = new InboundBudget(1000);
    assertThat(b.tryAdmit(5000)).isTrue();
    assertThat(b.tryAdmit(10)).isFalse();
    b.release(5000);
    assertThat(b.queuedBytes()).isZero();
    assertThat(b.tryAdmit(10)).isTrue();
  }
}
