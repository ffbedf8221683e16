package io.edgeslm.agent.internal.update;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What the update engine needs from MQTT: publish, subscribe, and the largest packet the broker
 * accepts. The agent's implementation is {@link ConnectionUpdateLink}, over the node's one
 * connection of the shared MQTT layer; tests also watch update traffic through an independent Paho
 * implementation of this interface (test scope only, ADR 0023). Kept this small so the engine can
 * run on the agent's connection or in a test process.
 */
public interface UpdateLink extends AutoCloseable {

  /**
   * A received message: topic, payload and MQTT 5 user properties (last value per key).
   *
   * <p>Immutable. The payload may be the very bytes the MQTT client decoded ({@link #wrap}): an
   * update chunk is 256 KiB or more and is hashed and written straight from there ({@link
   * #payloadBuffer}); {@link #payload} copies, for small messages read as JSON.
   */
  final class Message {
    private final String topic;
    // Read-only, position 0, limit = size; handed out only as duplicates.
    private final ByteBuffer payload;
    private final Map<String, String> userProperties;

    private Message(String topic, ByteBuffer payload, Map<String, String> userProperties) {
      this.topic = Objects.requireNonNull(topic, "topic");
      this.payload = payload;
      this.userProperties = Map.copyOf(userProperties);
    }

    /** A message whose payload is a copy of {@code payload}. */
    public Message(String topic, byte[] payload, Map<String, String> userProperties) {
      this(topic, ByteBuffer.wrap(payload.clone()).asReadOnlyBuffer(), userProperties);
    }

    /**
     * A message whose payload is {@code payload}'s remaining bytes, not copied: the caller hands
     * them over and must not change them afterwards.
     */
    public static Message wrap(
        String topic, ByteBuffer payload, Map<String, String> userProperties) {
      return new Message(topic, payload.slice().asReadOnlyBuffer(), userProperties);
    }

    public String topic() {
      return topic;
    }

    /** A copy of the payload. */
    public byte[] payload() {
      byte[] out = new byte[payload.limit()];
      payload.get(0, out);
      return out;
    }

    /** The payload without a copy: a read-only buffer of its own, position 0, limit the size. */
    public ByteBuffer payloadBuffer() {
      return payload.duplicate();
    }

    public int payloadSize() {
      return payload.limit();
    }

    /** MQTT 5 user properties, the last value per name. */
    public Map<String, String> userProperties() {
      return userProperties;
    }

    @Override
    public String toString() {
      return "Message[topic=" + topic + ", " + payload.limit() + " bytes, " + userProperties + "]";
    }
  }

  /** Publishes; returns once the message is handed to the client (QoS 1 completes later). */
  void publish(String topic, byte[] payload, int qos, boolean retained) throws IOException;

  /**
   * Subscribes {@code filter} (resubscribed after every reconnect); handlers run on one thread of
   * the link's own, never on the MQTT client's.
   */
  void subscribe(String filter, int qos, Consumer<Message> handler) throws IOException;

  /** The broker's maximum packet size from CONNACK, or {@link Long#MAX_VALUE} when unlimited. */
  long maxPacketSize();

  /** Whether the link is connected. */
  boolean isConnected();

  /** Called after every (re)connect, once subscriptions are back. */
  void onConnected(Runnable action);

  @Override
  void close();
}
