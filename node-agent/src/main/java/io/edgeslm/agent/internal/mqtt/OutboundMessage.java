package io.edgeslm.agent.internal.mqtt;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A message to publish, with the MQTT 5 properties the agent uses.
 *
 * @param topic topic name (no wildcards)
 * @param payload the payload
 * @param qos 0, 1 or 2
 * @param retained whether the broker keeps it as the topic's retained message
 * @param correlationData echoed MQTT 5 Correlation Data, if any
 * @param messageExpirySeconds MQTT 5 Message Expiry Interval, if any
 * @param contentType MQTT 5 Content Type, if any
 * @param userProperties MQTT 5 User Properties
 * @param responseTopic MQTT 5 Response Topic, if any (a question this node asks another node)
 */
public record OutboundMessage(
    String topic,
    byte[] payload,
    int qos,
    boolean retained,
    Optional<byte[]> correlationData,
    Optional<Long> messageExpirySeconds,
    Optional<String> contentType,
    List<Map.Entry<String, String>> userProperties,
    Optional<String> responseTopic) {

  /** A message without a response topic. */
  public OutboundMessage(
      String topic,
      byte[] payload,
      int qos,
      boolean retained,
      Optional<byte[]> correlationData,
      Optional<Long> messageExpirySeconds,
      Optional<String> contentType,
      List<Map.Entry<String, String>> userProperties) {
    this(
        topic,
        payload,
        qos,
        retained,
        correlationData,
        messageExpirySeconds,
        contentType,
        userProperties,
        Optional.empty());
  }

  public OutboundMessage {
    Objects.requireNonNull(responseTopic, "responseTopic");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(payload, "payload");
    if (qos < 0 || qos > 2) {
      throw new IllegalArgumentException("qos must be 0, 1 or 2: got " + qos);
    }
    Objects.requireNonNull(correlationData, "correlationData");
    Objects.requireNonNull(messageExpirySeconds, "messageExpirySeconds");
    Objects.requireNonNull(contentType, "contentType");
    userProperties = List.copyOf(userProperties);
  }

  /** A JSON message without MQTT 5 extras. */
  public static OutboundMessage json(String topic, byte[] payload, int qos, boolean retained) {
    return new OutboundMessage(
        topic,
        payload,
        qos,
        retained,
        Optional.empty(),
        Optional.empty(),
        Optional.of("application/json"),
        List.of());
  }

  /** The same message with correlation data set. */
  public OutboundMessage withCorrelationData(Optional<byte[]> data) {
    return new OutboundMessage(
        topic, payload, qos, retained, data, messageExpirySeconds, contentType, userProperties);
  }

  /** The same message with a message expiry interval. */
  public OutboundMessage withExpirySeconds(long seconds) {
    return new OutboundMessage(
        topic,
        payload,
        qos,
        retained,
        correlationData,
        Optional.of(seconds),
        contentType,
        userProperties);
  }
}
