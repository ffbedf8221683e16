/**
 * The project's one MQTT layer: a small API that agent, controller and test kit use instead of a
 * client library of their own (docs/adr/0023).
 *
 * <p>Open a connection with {@link io.edgeslm.mqtt.MqttConnection#open}; it connects in the
 * background and keeps reconnecting with {@link io.edgeslm.mqtt.Backoff} until closed. Register
 * subscriptions with {@link io.edgeslm.mqtt.MqttConnection#subscribe}: they are renewed after every
 * connect, before the {@link io.edgeslm.mqtt.MqttConnection#onConnected} hooks run. Publish with
 * {@link io.edgeslm.mqtt.MqttConnection#publish}; at most {@link
 * io.edgeslm.mqtt.MqttSettings#inflightWindow()} QoS 1 and 2 publishes are unacknowledged at once,
 * and a caller beyond it waits (back-pressure) up to {@link
 * io.edgeslm.mqtt.MqttSettings#publishTimeout()}.
 *
 * <p>MQTT 5 features ({@link io.edgeslm.mqtt.Message#userProperties()}, response topic, correlation
 * data, content type, message expiry, session expiry, will delay) are sent only on an MQTT 5
 * connection; on MQTT 3.1.1 (chosen, or the fallback of {@link io.edgeslm.mqtt.MqttVersion#AUTO})
 * they are dropped, which {@link io.edgeslm.mqtt.MqttConnection#version()} lets a caller detect.
 *
 * <p>Everything under {@code internal} is the implementation over the HiveMQ MQTT client and is not
 * API.
 */
package io.edgeslm.mqtt;
