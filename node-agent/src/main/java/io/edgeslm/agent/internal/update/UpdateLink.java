package io.edgeslm.agent.internal.update;

import java.io.IOException;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the update engine needs from MQTT: publish, subscribe, and the largest packet the broker
 * accepts. Implemented over the HiveMQ MQTT client ({@link HiveMqUpdateLink}, the agent's link: it
 * receives chunks at the broker's speed) and over Paho v5 ({@link PahoUpdateLink}, whose per-byte
 * decoding limits it to a few percent of that; kept for comparison, see ADR 0021). Kept this small
 * so the engine can run beside the agent's own transport or in a test process.
 */
public interface UpdateLink extends AutoCloseable {

  /** A received message: topic, payload and MQTT 5 user properties (last value per key). */
  record Message(String topic, byte[] payload, Map<String, String> userProperties) {}

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
