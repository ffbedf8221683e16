package io.edgeslm.mqtt;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One application message, sent or received. The MQTT 5 properties (user properties, response
 * topic, correlation data, content type, expiry) travel only on MQTT 5 connections.
 *
 * @param topic the topic name; no wildcards
 * @param payload the bytes (copied in and out)
 * @param qos 0, 1 or 2
 * @param retain the retain flag
 * @param userProperties MQTT 5 user properties in order; names may repeat (section 3.3.2.3.7)
 * @param responseTopic MQTT 5 Response Topic; untrusted when received
 * @param correlationData MQTT 5 Correlation Data (copied)
 * @param contentType MQTT 5 Content Type
 * @param messageExpirySeconds MQTT 5 Message Expiry Interval
 */
public record Message(
    String topic,
    byte[] payload,
    int qos,
    boolean retain,
    List<Map.Entry<String, String>> userProperties,
    Optional<String> responseTopic,
    Optional<byte[]> correlationData,
    Optional<String> contentType,
    Optional<Long> messageExpirySeconds) {

  public Message {
    Topics.requirePublishable(topic);
    payload = Objects.requireNonNull(payload, "payload").clone();
    requireQos(qos);
    userProperties = List.copyOf(Objects.requireNonNull(userProperties, "userProperties"));
    Objects.requireNonNull(responseTopic, "responseTopic");
    correlationData = Objects.requireNonNull(correlationData, "correlationData").map(byte[]::clone);
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(messageExpirySeconds, "messageExpirySeconds");
    responseTopic.ifPresent(Topics::requirePublishable);
    messageExpirySeconds.ifPresent(
        s -> {
          if (s < 0 || s > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(
                "Message expiry must be 0 to 4294967295 s (MQTT 5 section 3.3.2.3.3): got " + s);
          }
        });
  }

  /** A message with no MQTT 5 properties. */
  public static Message of(String topic, byte[] payload, int qos, boolean retain) {
    return new Message(
        topic,
        payload,
        qos,
        retain,
        List.of(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  /** This message with these user properties instead. */
  public Message withUserProperties(List<Map.Entry<String, String>> properties) {
    return new Message(
        topic,
        payload,
        qos,
        retain,
        properties,
        responseTopic,
        correlationData,
        contentType,
        messageExpirySeconds);
  }

  /** This message with a response topic and correlation data (the MQTT 5 request/response). */
  public Message withResponse(String responseTopic, byte[] correlationData) {
    return new Message(
        topic,
        payload,
        qos,
        retain,
        userProperties,
        Optional.of(responseTopic),
        Optional.of(correlationData),
        contentType,
        messageExpirySeconds);
  }

  /** This message with correlation data only (a reply). */
  public Message withCorrelationData(byte[] correlationData) {
    return new Message(
        topic,
        payload,
        qos,
        retain,
        userProperties,
        responseTopic,
        Optional.of(correlationData),
        contentType,
        messageExpirySeconds);
  }

  /** This message with a content type. */
  public Message withContentType(String type) {
    return new Message(
        topic,
        payload,
        qos,
        retain,
        userProperties,
        responseTopic,
        correlationData,
        Optional.of(type),
        messageExpirySeconds);
  }

  /** This message with a message expiry interval. */
  public Message withExpirySeconds(long seconds) {
    return new Message(
        topic,
        payload,
        qos,
        retain,
        userProperties,
        responseTopic,
        correlationData,
        contentType,
        Optional.of(seconds));
  }

  /** The first user property named {@code name}, if any. */
  public Optional<String> userProperty(String name) {
    return userProperties.stream()
        .filter(e -> e.getKey().equals(name))
        .map(Map.Entry::getValue)
        .findFirst();
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  @Override
  public Optional<byte[]> correlationData() {
    return correlationData.map(byte[]::clone);
  }

  /** The payload's size without copying it. */
  public int payloadSize() {
    return payload.length;
  }

  static void requireQos(int qos) {
    if (qos < 0 || qos > 2) {
      throw new IllegalArgumentException("MQTT QoS must be 0, 1 or 2: got " + qos);
    }
  }
}
