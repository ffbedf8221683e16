package io.edgeslm.fleet.internal.mqtt;

import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConfigurationException;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttSettings;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * What the controller's MQTT users (ingest, ask, chunk server, outbox) share on top of the one MQTT
 * layer ({@code io.edgeslm.mqtt}, ADR 0023): the settings of the replica's one connection, JSON
 * messages, and handlers that may throw. Reconnect, resubscribe, the hand-off off the network
 * thread and the in-flight window are the layer's; nothing here talks to a client library.
 */
public final class FleetMqtt {

  private static final Logger LOG = Logger.getLogger(FleetMqtt.class);

  /** The content type of every JSON message the controller publishes. */
  public static final String JSON = "application/json";

  /**
   * Payload bytes of received messages that may wait for the handlers. A fleet's retained births
   * and statuses all arrive at once after a reconnect (about 1 KiB each for 100,000 nodes), and the
   * layer drops, and counts, what does not fit.
   */
  static final long INBOUND_QUEUE_BYTES = 256L << 20;

  private FleetMqtt() {}

  /** Handles one received message; may throw, which is logged with the topic. */
  @FunctionalInterface
  public interface Handler {
    void handle(Message message) throws Exception;
  }

  /**
   * The replica's one connection, created but not started: the controller's parts take it in their
   * constructors and register their subscriptions, then the controller starts it.
   *
   * @param username MQTT user name, or null
   * @param password MQTT password, or null
   * @throws MqttConfigurationException if {@code uri} cannot name a broker; the message names
   *     {@code fleet.mqtt.uri}
   */
  public static MqttConnection connection(
      String uri, String clientId, String username, String password)
      throws MqttConfigurationException {
    MqttSettings settings =
        MqttSettings.builder(uri, clientId)
            .credentials(Optional.ofNullable(username), Optional.ofNullable(password))
            // Clean sessions: a replica that was away resyncs from retained messages, and a
            // persistent session would make the broker queue a fleet's health for it.
            .session(true, Duration.ZERO)
            .receiveMaximum(65_535)
            // Up to 256 unacknowledged publishes (a wave's retained assignments, chunks); the
            // broker's Receive Maximum lowers it.
            .inflightWindow(256)
            .publishTimeout(Duration.ofSeconds(30))
            .inboundQueueBytes(INBOUND_QUEUE_BYTES)
            .build();
    try {
      return MqttConnection.create(settings);
    } catch (MqttConfigurationException e) {
      throw new MqttConfigurationException(
          e.getMessage() + " Fix fleet.mqtt.uri (docs/fleet-controller.md, Configuration).", e);
    }
  }

  /** A JSON message with the content type {@value #JSON}. */
  public static Message json(String topic, byte[] json, int qos, boolean retain) {
    return Message.of(topic, json, qos, retain).withContentType(JSON);
  }

  /**
   * A layer handler that runs {@code handler} and logs what it throws, naming the topic, so that
   * one bad message never stops the others; an interrupt is kept for the layer's worker to see.
   */
  public static Consumer<Message> guarded(Handler handler) {
    return m -> {
      try {
        handler.handle(m);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        LOG.warnf(e, "handling a message on %s failed", m.topic());
      }
    };
  }
}
