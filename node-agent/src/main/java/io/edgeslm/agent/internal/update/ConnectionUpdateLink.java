package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.mqtt.MqttTransport;
import io.edgeslm.mqtt.MqttConfigurationException;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@link UpdateLink} over a connection of the shared MQTT layer: in the agent the node's one
 * connection, which questions, status and health use too ({@link #over}); in tests and benchmarks a
 * connection of its own ({@link #open}).
 *
 * <p>On the shared connection the update engine must not hold up questions, nor questions the
 * engine: the layer runs every handler on one worker thread, so this link only hands a received
 * message (its payload not copied) to a thread of its own ({@code update-inbound}), where the
 * engine's handlers and its on-connected actions (the journal replay, which publishes and may wait
 * for the in-flight window) run in arrival order. At most {@value #MAX_QUEUED_BYTES} bytes wait for
 * that thread; beyond that a message is dropped and counted ({@link #droppedInbound}): the update
 * protocol re-requests a lost chunk, and the controller repeats assignments.
 *
 * <p>Thread-safe.
 */
public final class ConnectionUpdateLink implements UpdateLink {

  private static final Logger LOG = Logger.getLogger(ConnectionUpdateLink.class.getName());

  /** Bytes of received messages waiting for the link's thread. */
  static final long MAX_QUEUED_BYTES = 64L << 20;

  private static final long SUBSCRIBE_TIMEOUT_MS = 10_000;

  private final MqttConnection connection;
  private final boolean owned;
  // Bounded by bytes (queued), not by count: chunks may be anything from 4 KiB to 16 MiB. Messages
  // that arrive after close() are dropped (DiscardPolicy) instead of failing on the layer's thread.
  private final ThreadPoolExecutor inbound =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.MILLISECONDS,
          new LinkedBlockingQueue<>(),
          r -> {
            Thread t = new Thread(r, "update-inbound");
            t.setDaemon(true);
            return t;
          },
          new ThreadPoolExecutor.DiscardPolicy());
  private final Object budget = new Object();
  private long queuedBytes;
  private long dropped;
  private volatile boolean closed;

  private ConnectionUpdateLink(MqttConnection connection, boolean owned) {
    this.connection = Objects.requireNonNull(connection, "connection");
    this.owned = owned;
  }

  /**
   * A link over {@code connection}, which stays the caller's: {@link #close} leaves it open. Create
   * it in the connection's setup (before the first connect) so that the engine's subscriptions and
   * actions are in place for the first connect.
   */
  public static ConnectionUpdateLink over(MqttConnection connection) {
    return new ConnectionUpdateLink(connection, false);
  }

  /**
   * A link with a connection of its own (tests, benchmarks), connecting in the background until
   * {@link #close}.
   *
   * @throws IOException when the URI cannot name a broker (scheme, host or port)
   */
  public static ConnectionUpdateLink open(MqttSettings settings) throws IOException {
    try {
      return new ConnectionUpdateLink(MqttConnection.open(settings), true);
    } catch (MqttConfigurationException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /** {@link #open(MqttSettings)} with {@link #settings} for this URI and client id. */
  public static ConnectionUpdateLink open(String serverUri, String clientId) throws IOException {
    return open(settings(serverUri, clientId).build());
  }

  /**
   * Settings as the agent's connection has them for updates: clean start without a broker session
   * (durability is the transfer bitmap and the update journal), packets up to {@link
   * MqttTransport#MAX_INBOUND_PACKET}.
   */
  public static MqttSettings.Builder settings(String serverUri, String clientId) {
    return MqttSettings.builder(serverUri, clientId)
        .session(true, Duration.ZERO)
        .maxPacketSize(MqttTransport.MAX_INBOUND_PACKET);
  }

  @Override
  public void publish(String topic, byte[] payload, int qos, boolean retained) throws IOException {
    if (!connection.isConnected()) {
      throw new IOException(
          "Not connected to the broker ("
              + connection.lastError()
              + "); the update continues after reconnect.");
    }
    io.edgeslm.mqtt.Message m;
    try {
      m = io.edgeslm.mqtt.Message.of(topic, payload, qos, retained);
    } catch (IllegalArgumentException e) {
      throw new IOException("Cannot publish to " + topic + ": " + e.getMessage(), e);
    }
    // The layer waits here for room in the in-flight window; a future that failed at once means
    // not connected or the window stayed full. A later failure (connection lost before PUBACK) is
    // repaired by the protocol: requests are repeated, results and the journal replayed.
    CompletableFuture<Void> sent = connection.publish(m);
    if (sent.isCompletedExceptionally()) {
      try {
        sent.join();
      } catch (RuntimeException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        throw new IOException(cause.getMessage(), cause);
      }
    }
  }

  @Override
  public void subscribe(String filter, int qos, Consumer<Message> handler) throws IOException {
    Objects.requireNonNull(handler, "handler");
    CompletableFuture<Void> granted = connection.subscribe(filter, qos, m -> handOff(handler, m));
    try {
      // Completes at once when not connected: the next connect subscribes it.
      granted.get(SUBSCRIBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Interrupted while subscribing to " + filter, e);
    } catch (ExecutionException e) {
      throw new IOException(e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      // Renewed by the next reconnect; a silent broker is also noticed by the keep-alive.
      throw new IOException(
          "The broker did not answer the subscription to "
              + filter
              + " within "
              + SUBSCRIBE_TIMEOUT_MS
              + " ms; it is renewed on the next connect.",
          e);
    }
  }

  /**
   * Runs on the layer's worker: queues the message for the link's thread. The payload stays the
   * buffer the client decoded it into (read-only, never reused by the layer), not a copy.
   */
  private void handOff(Consumer<Message> handler, io.edgeslm.mqtt.Message m) {
    if (closed) {
      return;
    }
    long size = m.payloadSize();
    synchronized (budget) {
      if (queuedBytes > 0 && queuedBytes + size > MAX_QUEUED_BYTES) {
        long n = ++dropped;
        if (Long.bitCount(n) == 1) {
          LOG.warning(
              "Dropped a message from "
                  + m.topic()
                  + ": "
                  + queuedBytes
                  + " bytes already wait for the update engine, the bound is "
                  + MAX_QUEUED_BYTES
                  + " ("
                  + n
                  + " dropped so far). The controller repeats what is lost.");
        }
        return;
      }
      queuedBytes += size;
    }
    Map<String, String> props = new LinkedHashMap<>();
    m.userProperties().forEach(e -> props.put(e.getKey(), e.getValue()));
    Message copy = Message.wrap(m.topic(), m.payloadBuffer(), props);
    inbound.execute(
        () -> {
          try {
            handler.accept(copy);
          } catch (RuntimeException e) {
            // One handler's bug must not stop delivery to the others.
            LOG.log(Level.WARNING, "Update handler failed on " + copy.topic(), e);
          } finally {
            synchronized (budget) {
              queuedBytes = Math.max(0, queuedBytes - size);
            }
          }
        });
  }

  /** Received messages dropped because {@value #MAX_QUEUED_BYTES} bytes waited for the link. */
  public long droppedInbound() {
    synchronized (budget) {
      return dropped;
    }
  }

  /** {@link Long#MAX_VALUE} when the broker set no limit. */
  @Override
  public long maxPacketSize() {
    int max = connection.brokerMaxPacketSize();
    return max >= MqttSettings.MAX_PACKET_LIMIT ? Long.MAX_VALUE : max;
  }

  @Override
  public boolean isConnected() {
    return connection.isConnected();
  }

  /** Why the connection is down, or {@code "connected"}. */
  public String lastError() {
    return connection.lastError();
  }

  /** Waits up to {@code millis} until connected with every subscription renewed. */
  public boolean awaitConnected(long millis) {
    try {
      return connection.awaitConnected(Duration.ofMillis(millis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs {@code action} on the link's thread after every connect, once subscriptions are back. */
  @Override
  public void onConnected(Runnable action) {
    Objects.requireNonNull(action, "action");
    connection.onConnected(
        c -> {
          if (!closed) {
            inbound.execute(action);
          }
        });
  }

  /** Stops the link's thread; closes the connection only if the link opened it. */
  @Override
  public void close() {
    closed = true;
    inbound.shutdownNow();
    if (owned) {
      connection.close();
    }
  }
}
