package io.edgeslm.agent.internal.update;

import java.io.IOException;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the update engine needs from MQTT: publish, subscribe, and the largest packet the broker
 * accepts. The agent's implementation is {@link ConnectionUpdateLink}, over the node's one
 * connection of the shared MQTT layer; tests also watch update traffic through an independent Paho
 * implementation of this interface (test scope only, ADR 0023). Kept this small so the engine can
 * run on the agent's connection or in a test process.
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
