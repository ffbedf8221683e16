package io.edgeslm.agent.internal.mqtt;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.agent.AgentTransportException;
import io.edgeslm.mqtt.Backoff;
import io.edgeslm.mqtt.MqttVersion;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Settings the MQTT layer refuses name the configuration keys of the broker they belong to. */
class MqttTransportSettingsTest {

  private static MqttTransport.Settings settings(Duration keepAlive, String prefix) {
    return new MqttTransport.Settings(
        "tcp://127.0.0.1:1883",
        "gw-1",
        Optional.empty(),
        Optional.empty(),
        null,
        keepAlive,
        Duration.ofSeconds(5),
        new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30)),
        16,
        64,
        null,
        null,
        Duration.ofSeconds(10),
        MqttVersion.V5,
        prefix);
  }

  @Test
  void aRefusedFleetSetting_namesTheFleetBrokersKeys() {
    assertThatThrownBy(
            () -> new MqttTransport(settings(Duration.ofDays(2), "edgeslm.agent.fleet.broker")))
        .isInstanceOf(AgentTransportException.class)
        .hasMessageContaining("keepAlive must be 1 s to 65535 s")
        .hasMessageEndingWith("Check edgeslm.agent.fleet.broker.*.");
  }

  @Test
  void aRefusedLocalSetting_namesTheBrokersKeys() {
    assertThatThrownBy(
            () ->
                new MqttTransport(
                    settings(Duration.ofDays(2), MqttTransport.Settings.DEFAULT_CONFIG_PREFIX)))
        .isInstanceOf(AgentTransportException.class)
        .hasMessageEndingWith("Check edgeslm.agent.broker.*.");
  }
}
