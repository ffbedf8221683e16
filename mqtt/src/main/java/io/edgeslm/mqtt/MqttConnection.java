package io.edgeslm.mqtt;

import io.edgeslm.mqtt.internal.HiveMqConnection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One connection to one broker that keeps itself up: it connects in the background, reconnects with
 * {@link MqttSettings#backoff()} after every loss until {@link #close()}, and on every connect
 * first renews all subscriptions, then runs the {@link #onConnected} hooks.
 *
 * <p>Received messages reach their handlers on one worker thread per connection, in arrival order,
 * never on the network thread; a handler may publish and subscribe. A handler that throws is logged
 * through {@link System.Logger} and does not stop delivery to others.
 *
 * <p>Thread-safe.
 */
public interface MqttConnection extends AutoCloseable {

  /**
   * Creates the connection and starts connecting; returns at once.
   *
   * @throws MqttConfigurationException if the URI cannot name a broker (scheme, host, port)
   */
  static MqttConnection open(MqttSettings settings) throws MqttConfigurationException {
    return HiveMqConnection.open(settings, c -> {});
  }

  /**
   * Creates the connection, runs {@code setup} on it (register subscriptions and hooks there: they
   * are in place before the first connect attempt), then starts connecting; returns at once.
   *
   * @throws MqttConfigurationException if the URI cannot name a broker (scheme, host, port)
   */
  static MqttConnection open(MqttSettings settings, Consumer<MqttConnection> setup)
      throws MqttConfigurationException {
    return HiveMqConnection.open(settings, setup);
  }

  /**
   * Creates the connection without connecting: for an owner whose parts need the connection object
   * before it may connect (they publish through it), so that the owner can register every
   * subscription and hook first and then call {@link #start()}. {@link #open(MqttSettings,
   * Consumer)} is this, the setup and {@code start()} in one call.
   *
   * @throws MqttConfigurationException if the URI cannot name a broker (scheme, host, port)
   */
  static MqttConnection create(MqttSettings settings) throws MqttConfigurationException {
    return HiveMqConnection.create(settings);
  }

  /**
   * Readies the MQTT client's code for a first connect without connecting: an owner that starts
   * other parts first may call it on a thread of its own, so that the class initialisation a first
   * connect needs (a few hundred classes of the client, its codecs and RxJava) runs beside that
   * work instead of after it. Opens no connection and starts no thread of the client's (RxJava's
   * two housekeeping threads, which any first use starts, do start); safe to call at any time, any
   * number of times.
   */
  static void warmUp() {
    HiveMqConnection.warmUp();
  }

  /**
   * Starts connecting in the background and returns at once; after that the connection keeps
   * reconnecting until {@link #close()}. Connections from {@link #open} are started already; a
   * second call, or a call after {@code close()}, does nothing.
   */
  void start();

  /**
   * Publishes {@code message}. With QoS 1 or 2 the caller first waits for room in the in-flight
   * window (back-pressure), up to {@link MqttSettings#publishTimeout()}.
   *
   * @return completes when the broker acknowledged (QoS 1: PUBACK, QoS 2: PUBCOMP) or, for QoS 0,
   *     when the message was handed to the network; fails with {@link MqttTransportException} when
   *     not connected, when the window stayed full, when the broker refused it (reason code), or
   *     when the connection was lost first. Never throws.
   */
  CompletableFuture<Void> publish(Message message);

  /**
   * Registers {@code handler} for {@code filter} at {@code qos}: subscribed now if connected, and
   * again after every reconnect.
   *
   * @return completes when the broker granted the subscription (or at once if not connected: the
   *     next connect subscribes it); fails with {@link MqttTransportException} if the broker
   *     refused it (for example by ACL)
   * @throws IllegalArgumentException if the filter or QoS is invalid
   */
  CompletableFuture<Void> subscribe(String filter, int qos, Consumer<Message> handler);

  /**
   * Runs {@code hook} on the worker thread after every connect, once all subscriptions were
   * renewed: publish a birth message, re-request state. Register before the first connect to be
   * sure to see it.
   */
  void onConnected(Consumer<Connected> hook);

  /** Runs {@code hook} on the worker thread when the connection is lost, with the reason. */
  void onDisconnected(Consumer<String> hook);

  /** Whether the connection is up now. */
  boolean isConnected();

  /**
   * Waits until connected with every subscription renewed.
   *
   * @return whether that happened within {@code timeout}
   */
  boolean awaitConnected(Duration timeout) throws InterruptedException;

  /** The version spoken on the current (or last) connection; {@code AUTO} before any connect. */
  MqttVersion version();

  /** The largest packet the broker accepts from us (its Maximum Packet Size), or max int. */
  int brokerMaxPacketSize();

  /** Counters for health output. */
  Stats stats();

  /** Why the connection is down, or {@code "connected"}. */
  String lastError();

  /**
   * Stops reconnecting, sends DISCONNECT (the broker then discards the will), and stops the worker.
   * Idempotent.
   */
  @Override
  void close();

  /**
   * What a connect established.
   *
   * @param version the version spoken
   * @param firstTime whether this is the connection's first successful connect
   * @param sessionPresent whether the broker resumed an earlier session
   * @param window the in-flight window in force: the smaller of ours and the broker's Receive
   *     Maximum
   */
  record Connected(MqttVersion version, boolean firstTime, boolean sessionPresent, int window) {}

  /**
   * Counters since the connection object was created.
   *
   * @param connects successful connects
   * @param inflight our unacknowledged publishes now
   * @param queued received messages waiting for the worker
   * @param publishFailures publishes whose future failed
   * @param dropped received messages dropped because {@link MqttSettings#inboundQueueBytes()} was
   *     reached
   */
  record Stats(long connects, int inflight, int queued, long publishFailures, long dropped) {}
}
