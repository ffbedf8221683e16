package io.edgeslm.fixturebeta;

import com.hivemq.client.mqtt.MqttClient;

/** Fixture: the deliberate violation, a module building its own MQTT client beside the layer. */
public final class BetaOpensItsOwnMqttClient {
  public Object open() {
    return MqttClient.builder().identifier("beta").serverHost("127.0.0.1").useMqttVersion5();
  }
}
