package io.edgeslm.mqtt;

/** Which MQTT protocol version a connection speaks. */
public enum MqttVersion {
  /** MQTT 5.0 only (OASIS standard, https://docs.oasis-open.org/mqtt/mqtt/v5.0/mqtt-v5.0.html). */
  V5,
  /** MQTT 3.1.1 only (https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/mqtt-v3.1.1.html). */
  V3_1_1,
  /**
   * MQTT 5 first; MQTT 3.1.1 when the broker refuses version 5 (plant brokers vary). The choice is
   * remembered for the life of the connection object.
   */
  AUTO
}
