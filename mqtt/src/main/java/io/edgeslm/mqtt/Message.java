package io.edgeslm.mqtt;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One application message, sent or received. The MQTT 5 properties (user properties, response
 * topic, correlation data, content type, expiry) travel only on MQTT 5 connections.
 *
 * <p>Immutable. The payload is copied in by the constructor and {@link #of}, and out by {@link
 * #payload()}; {@link #wrap} and {@link #payloadBuffer()} do without the copy for large payloads
 * (update chunks of 256 KiB and more), and the {@code with…} methods share the payload of the
 * message they derive from.
 */
public final class Message {

  private final String topic;
  // Read-only, position 0 .. limit = the payload; never handed out itself (duplicates only).
  private final ByteBuffer payload;
  private final int qos;
  private final boolean retain;
  private final List<Map.Entry<String, String>> userProperties;
  private final Optional<String> responseTopic;
  private final Optional<byte[]> correlationData;
  private final Optional<String> contentType;
  private final Optional<Long> messageExpirySeconds;

  /**
   * @param topic the topic name; no wildcards
   * @param payload the bytes (copied)
   * @param qos 0, 1 or 2
   * @param retain the retain flag
   * @param userProperties MQTT 5 user properties in order; names may repeat (section 3.3.2.3.7)
   * @param responseTopic MQTT 5 Response Topic; untrusted when received
   * @param correlationData MQTT 5 Correlation Data (copied)
   * @param contentType MQTT 5 Content Type
   * @param messageExpirySeconds MQTT 5 Message Expiry Interval
   */
  public Message(
      String topic,
      byte[] payload,
      int qos,
      boolean retain,
      List<Map.Entry<String, String>> userProperties,
      Optional<String> responseTopic,
      Optional<byte[]> correlationData,
      Optional<String> contentType,
      Optional<Long> messageExpirySeconds) {
    this(
        topic,
        ByteBuffer.wrap(Objects.requireNonNull(payload, "payload").clone()).asReadOnlyBuffer(),
        qos,
        retain,
        List.copyOf(Objects.requireNonNull(userProperties, "userProperties")),
        responseTopic,
        Objects.requireNonNull(correlationData, "correlationData").map(byte[]::clone),
        contentType,
        messageExpirySeconds,
        true);
  }

  // Takes payload (read-only, position 0), userProperties (immutable) and correlationData as they
  // are: the public entry points copy or document the hand-over.
  private Message(
      String topic,
      ByteBuffer payload,
      int qos,
      boolean retain,
      List<Map.Entry<String, String>> userProperties,
      Optional<String> responseTopic,
      Optional<byte[]> correlationData,
      Optional<String> contentType,
      Optional<Long> messageExpirySeconds,
      boolean check) {
    if (check) {
      Topics.requirePublishable(topic);
      requireQos(qos);
      Objects.requireNonNull(responseTopic, "responseTopic");
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
    this.topic = topic;
    this.payload = payload;
    this.qos = qos;
    this.retain = retain;
    this.userProperties = userProperties;
    this.responseTopic = responseTopic;
    this.correlationData = correlationData;
    this.contentType = contentType;
    this.messageExpirySeconds = messageExpirySeconds;
  }

  /** A message with no MQTT 5 properties; the payload is copied. */
  public static Message of(String topic, byte[] payload, int qos, boolean retain) {
    return wrap(
        topic, ByteBuffer.wrap(Objects.requireNonNull(payload, "payload").clone()), qos, retain);
  }

  /**
   * A message with no MQTT 5 properties whose payload is {@code payload}'s remaining bytes,
   * <em>not</em> copied: the caller hands them over and must not change them afterwards (for
   * payloads too large to copy per message, such as update chunks).
   */
  public static Message wrap(String topic, ByteBuffer payload, int qos, boolean retain) {
    ByteBuffer p = Objects.requireNonNull(payload, "payload").slice().asReadOnlyBuffer();
    return new Message(
        topic,
        p,
        qos,
        retain,
        List.of(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        true);
  }

  /** This message with these user properties instead. */
  public Message withUserProperties(List<Map.Entry<String, String>> properties) {
    return new Message(
        topic,
        payload,
        qos,
        retain,
        List.copyOf(Objects.requireNonNull(properties, "userProperties")),
        responseTopic,
        correlationData,
        contentType,
        messageExpirySeconds,
        false);
  }

  /** This message with a response topic and correlation data (the MQTT 5 request/response). */
  public Message withResponse(String responseTopic, byte[] correlationData) {
    Topics.requirePublishable(responseTopic);
    return new Message(
        topic,
        payload,
        qos,
        retain,
        userProperties,
        Optional.of(responseTopic),
        Optional.of(correlationData.clone()),
        contentType,
        messageExpirySeconds,
        false);
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
        Optional.of(correlationData.clone()),
        contentType,
        messageExpirySeconds,
        false);
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
        messageExpirySeconds,
        false);
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
        Optional.of(seconds),
        true);
  }

  /** The first user property named {@code name}, if any. */
  public Optional<String> userProperty(String name) {
    for (Map.Entry<String, String> e : userProperties) {
      if (e.getKey().equals(name)) {
        return Optional.of(e.getValue());
      }
    }
    return Optional.empty();
  }

  /** The topic name. */
  public String topic() {
    return topic;
  }

  /** A copy of the payload. */
  public byte[] payload() {
    byte[] out = new byte[payload.limit()];
    payload.get(0, out);
    return out;
  }

  /**
   * The payload without copying it: a read-only buffer of its own (position 0, limit the size), so
   * that callers can hash it or write it to a channel.
   */
  public ByteBuffer payloadBuffer() {
    return payload.duplicate();
  }

  /** The payload's size without copying it. */
  public int payloadSize() {
    return payload.limit();
  }

  public int qos() {
    return qos;
  }

  public boolean retain() {
    return retain;
  }

  /** MQTT 5 user properties in order; names may repeat. */
  public List<Map.Entry<String, String>> userProperties() {
    return userProperties;
  }

  /** MQTT 5 Response Topic; untrusted when received. */
  public Optional<String> responseTopic() {
    return responseTopic;
  }

  /** MQTT 5 Correlation Data (a copy). */
  public Optional<byte[]> correlationData() {
    return correlationData.map(byte[]::clone);
  }

  /** MQTT 5 Content Type. */
  public Optional<String> contentType() {
    return contentType;
  }

  /** MQTT 5 Message Expiry Interval. */
  public Optional<Long> messageExpirySeconds() {
    return messageExpirySeconds;
  }

  @Override
  public String toString() {
    return "Message[topic="
        + topic
        + ", "
        + payload.limit()
        + " bytes, qos="
        + qos
        + ", retain="
        + retain
        + ", userProperties="
        + userProperties
        + ", responseTopic="
        + responseTopic
        + ", contentType="
        + contentType
        + "]";
  }

  static void requireQos(int qos) {
    if (qos < 0 || qos > 2) {
      throw new IllegalArgumentException("MQTT QoS must be 0, 1 or 2: got " + qos);
    }
  }
}
