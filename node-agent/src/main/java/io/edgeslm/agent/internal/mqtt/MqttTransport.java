package io.edgeslm.agent.internal.mqtt;

import io.edgeslm.agent.AgentException;
import io.edgeslm.agent.AgentTransportException;
import io.edgeslm.mqtt.Backoff;
import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConfigurationException;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttSettings;
import io.edgeslm.mqtt.MqttVersion;
import io.edgeslm.mqtt.TlsOptions;
import io.edgeslm.mqtt.Topics;
import io.edgeslm.mqtt.Will;
import io.edgeslm.protocol.UpdateAssignment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The agent's one MQTT connection per broker: a thin adapter over the shared MQTT layer ({@link
 * MqttConnection}, docs/adr/0023) that speaks the agent's message types ({@link InboundMessage},
 * {@link OutboundMessage}). Everything that goes to that broker shares it: questions and answers,
 * birth, status and will, health, reports, the journal, and the update engine's assignments, chunks
 * and commands (through {@link #start(Setup)}, which hands the same connection to the update link).
 * One connection per node is what lets the broker bind the client id to the node's certificate
 * (docs/security.md, "Session takeover").
 *
 * <p>What the layer provides and this class relies on: connecting in the background with jittered
 * backoff (first connect included), renewing every subscription on every connect before the
 * on-connected hooks run, handlers on one ordered worker thread (never the network thread), a
 * bounded in-flight window (the smaller of {@code broker.max-inflight} and the broker's Receive
 * Maximum), and a byte bound on received messages waiting for the worker. Clean start with session
 * expiry 0: durability is the agent's journal, not a broker session.
 *
 * <p>Thread-safe. Handlers run on the layer's worker thread, in arrival order; they must hand slow
 * work to threads of their own (the Q&A admits and queues, the update link has its own executor).
 */
public final class MqttTransport implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(MqttTransport.class);

  /**
   * The largest packet the agent accepts: an update chunk of the protocol's maximum size as base64
   * JSON plus headers. Everything else the agent receives (questions, sensor values, Sparkplug
   * payloads) is far smaller; the broker drops larger packets for us (MQTT 5 section 3.1.2.11.4).
   */
  public static final int MAX_INBOUND_PACKET = UpdateAssignment.MAX_CHUNK_BYTES * 2 + (64 << 10);

  /** Receives one message on the layer's worker thread. */
  @FunctionalInterface
  public interface MessageHandler {
    void onMessage(InboundMessage message) throws Exception;
  }

  /** Hears about the connection; called on the layer's worker thread. */
  public interface ConnectionListener {
    /** Connected and all registered filters resubscribed. */
    void onConnected(boolean firstTime);

    /** The connection was lost; the layer keeps trying. */
    default void onDisconnected(String reason) {}
  }

  /**
   * More setup on the connection before its first connect attempt: subscriptions and hooks
   * registered here are in place for the first connect.
   */
  @FunctionalInterface
  public interface Setup {
    void accept(MqttConnection connection) throws AgentException;
  }

  /**
   * What the transport needs to connect.
   *
   * @param serverUri {@code tcp://host:port} or {@code ssl://host:port}
   * @param clientId the MQTT client id: the node id, which is also its certificate identity
   * @param username optional user name
   * @param password optional password
   * @param tls TLS with the node's certificate and the broker's CA, or null for what the URI's
   *     scheme asks for (the JDK's defaults for {@code ssl://})
   * @param keepAlive keep-alive interval
   * @param connectTimeout the longest wait for room in the in-flight window, and for the offline
   *     status at shutdown
   * @param backoff delays between connect attempts
   * @param maxInflight the bound on unacknowledged publishes
   * @param inboundQueue the Receive Maximum told to the broker: QoS 1 and 2 messages it may have
   *     unacknowledged towards the agent
   * @param willTopic Last Will topic (retained, QoS 1), or null for a connection without a will
   *     (the local broker's while a fleet broker carries the status)
   * @param willPayload Last Will payload (JSON); ignored without a will topic
   * @param willDelay Will Delay Interval
   * @param version the protocol version: MQTT 5, or {@link MqttVersion#AUTO} (MQTT 5, else 3.1.1)
   *     for a plant's local broker
   * @param configPrefix the configuration keys these settings came from ({@code
   *     edgeslm.agent.broker} or {@code edgeslm.agent.fleet.broker}), named in errors
   */
  public record Settings(
      String serverUri,
      String clientId,
      Optional<String> username,
      Optional<String> password,
      TlsOptions tls,
      Duration keepAlive,
      Duration connectTimeout,
      Backoff backoff,
      int maxInflight,
      int inboundQueue,
      String willTopic,
      byte[] willPayload,
      Duration willDelay,
      MqttVersion version,
      String configPrefix) {

    /** Settings for an MQTT 5 connection. */
    public Settings(
        String serverUri,
        String clientId,
        Optional<String> username,
        Optional<String> password,
        TlsOptions tls,
        Duration keepAlive,
        Duration connectTimeout,
        Backoff backoff,
        int maxInflight,
        int inboundQueue,
        String willTopic,
        byte[] willPayload,
        Duration willDelay) {
      this(
          serverUri,
          clientId,
          username,
          password,
          tls,
          keepAlive,
          connectTimeout,
          backoff,
          maxInflight,
          inboundQueue,
          willTopic,
          willPayload,
          willDelay,
          MqttVersion.V5,
          DEFAULT_CONFIG_PREFIX);
    }

    /** The configuration keys of the one broker, or of the local one beside a fleet broker. */
    public static final String DEFAULT_CONFIG_PREFIX = "edgeslm.agent.broker";

    public Settings {
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(configPrefix, "configPrefix");
      Objects.requireNonNull(serverUri, "serverUri");
      Objects.requireNonNull(clientId, "clientId");
      Objects.requireNonNull(username, "username");
      Objects.requireNonNull(password, "password");
      Objects.requireNonNull(keepAlive, "keepAlive");
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      Objects.requireNonNull(backoff, "backoff");
      if (willTopic != null) {
        Objects.requireNonNull(willPayload, "willPayload");
      }
      Objects.requireNonNull(willDelay, "willDelay");
      if (maxInflight < 1 || inboundQueue < 1) {
        throw new IllegalArgumentException(
            "maxInflight and inboundQueue must be positive: got "
                + maxInflight
                + ", "
                + inboundQueue);
      }
    }
  }

  private record Subscription(String filter, int qos, MessageHandler handler) {}

  private final Settings settings;
  private final MqttSettings layerSettings;
  private final Object lock = new Object();
  private final List<Subscription> early = new ArrayList<>();
  private final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
  private volatile MqttConnection connection;
  private volatile boolean closed;

  /**
   * Checks the settings; connects only on {@link #start()}.
   *
   * @throws AgentTransportException when a value cannot work (the message names it)
   */
  public MqttTransport(Settings settings) throws AgentTransportException {
    this.settings = Objects.requireNonNull(settings, "settings");
    try {
      MqttSettings.Builder b =
          MqttSettings.builder(settings.serverUri(), settings.clientId())
              .version(settings.version())
              .credentials(settings.username(), settings.password())
              .keepAlive(settings.keepAlive())
              .session(true, Duration.ZERO)
              .maxPacketSize(MAX_INBOUND_PACKET)
              .receiveMaximum(Math.min(settings.inboundQueue(), 65_535))
              .inflightWindow(Math.min(settings.maxInflight(), 65_535))
              .publishTimeout(settings.connectTimeout())
              .backoff(settings.backoff());
      if (settings.tls() != null) {
        b = b.tls(settings.tls());
      }
      if (settings.willTopic() != null) {
        b =
            b.will(
                new Will(
                    settings.willTopic(),
                    settings.willPayload(),
                    1,
                    true,
                    settings.willDelay(),
                    Optional.of("application/json")));
      }
      this.layerSettings = b.build();
    } catch (IllegalArgumentException e) {
      throw new AgentTransportException(
          "Cannot use the MQTT settings for "
              + settings.serverUri()
              + ": "
              + e.getMessage()
              + ". Check "
              + settings.configPrefix()
              + ".*.",
          e);
    }
  }

  /** Registers a connection listener; call before {@link #start()} to hear the first connect. */
  public void addListener(ConnectionListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Registers {@code handler} for {@code filter}; it is subscribed now if connected and again after
   * every reconnect.
   *
   * @throws IllegalArgumentException if the filter is not a valid topic filter
   */
  public void subscribe(String filter, int qos, MessageHandler handler) {
    Topics.requireFilter(filter);
    Subscription s = new Subscription(filter, qos, Objects.requireNonNull(handler, "handler"));
    synchronized (lock) {
      MqttConnection c = connection;
      if (c == null) {
        early.add(s);
        return;
      }
      register(c, s);
    }
  }

  private void register(MqttConnection c, Subscription s) {
    c.subscribe(s.filter(), s.qos(), m -> deliver(s, m))
        .whenComplete(
            (ok, e) -> {
              if (e != null) {
                LOG.errorf("%s Check the broker's ACL for this node.", unwrap(e).getMessage());
              }
            });
  }

  private void deliver(Subscription s, Message m) {
    InboundMessage in =
        new InboundMessage(
            m.topic(),
            m.payload(),
            m.qos(),
            m.retain(),
            m.responseTopic(),
            m.correlationData(),
            m.messageExpirySeconds(),
            m.userProperties(),
            System.nanoTime());
    try {
      s.handler().onMessage(in);
    } catch (Exception e) {
      LOG.warnf(e, "Handler for %s failed on a message from %s", s.filter(), m.topic());
    }
  }

  /** Starts connecting in the background; returns at once. */
  public void start() {
    try {
      start(c -> {});
    } catch (AgentException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /**
   * Opens the connection: registers the subscriptions and listeners so far, runs {@code setup} on
   * the connection (the update link registers its subscriptions and hooks there, so none misses the
   * first connect), then starts connecting in the background.
   *
   * @throws AgentException what {@code setup} threw, or {@link AgentTransportException} when the
   *     broker URI cannot name a broker
   */
  public void start(Setup setup) throws AgentException {
    synchronized (lock) {
      if (connection != null || closed) {
        return;
      }
      AgentException[] failed = new AgentException[1];
      MqttConnection opened;
      try {
        opened =
            MqttConnection.open(
                layerSettings,
                c -> {
                  // From here on subscribe() goes straight to the connection (setup may call it).
                  connection = c;
                  for (Subscription s : early) {
                    register(c, s);
                  }
                  early.clear();
                  c.onConnected(this::connected);
                  c.onDisconnected(this::disconnected);
                  try {
                    setup.accept(c);
                  } catch (AgentException e) {
                    failed[0] = e;
                  }
                });
      } catch (MqttConfigurationException e) {
        throw new AgentTransportException(
            e.getMessage() + " Check " + settings.configPrefix() + ".url.", e);
      }
      if (failed[0] != null) {
        connection = null;
        opened.close();
        throw failed[0];
      }
    }
  }

  private void connected(MqttConnection.Connected c) {
    LOG.infof(
        "Connected to %s as %s (MQTT %s, in-flight window %d)",
        settings.serverUri(), settings.clientId(), c.version(), c.window());
    for (ConnectionListener l : listeners) {
      try {
        l.onConnected(c.firstTime());
      } catch (RuntimeException e) {
        LOG.warn("A connection listener failed", e);
      }
    }
  }

  private void disconnected(String reason) {
    LOG.warnf("MQTT connection to %s lost: %s", settings.serverUri(), reason);
    for (ConnectionListener l : listeners) {
      try {
        l.onDisconnected(reason);
      } catch (RuntimeException e) {
        LOG.warn("A connection listener failed", e);
      }
    }
  }

  /** The layer's connection, once {@link #start} opened it. */
  public Optional<MqttConnection> connection() {
    return Optional.ofNullable(connection);
  }

  /** Whether the connection is up. */
  public boolean isConnected() {
    MqttConnection c = connection;
    return c != null && c.isConnected();
  }

  /** Why the transport is not connected, for health output. */
  public String lastError() {
    MqttConnection c = connection;
    return c == null ? "not started" : c.lastError();
  }

  /** Number of successful connects so far. */
  public long connectCount() {
    MqttConnection c = connection;
    return c == null ? 0 : c.stats().connects();
  }

  /** Received messages dropped because too many bytes waited for the worker thread. */
  public long droppedInbound() {
    MqttConnection c = connection;
    return c == null ? 0 : c.stats().dropped();
  }

  /** Publishes that failed (not connected, window full, broker refused). */
  public long publishFailures() {
    MqttConnection c = connection;
    return c == null ? 0 : c.stats().publishFailures();
  }

  /** Unacknowledged publishes right now. */
  public int inflight() {
    MqttConnection c = connection;
    return c == null ? 0 : c.stats().inflight();
  }

  /** Messages waiting for the worker thread. */
  public int inboundDepth() {
    MqttConnection c = connection;
    return c == null ? 0 : c.stats().queued();
  }

  /**
   * Publishes {@code message}. Completes when the broker acknowledged it (QoS 1/2) or when it was
   * written (QoS 0); fails with {@link AgentTransportException} when not connected, when the
   * in-flight window stays full for the connect timeout, or when the connection is lost first.
   */
  public CompletableFuture<Void> publish(OutboundMessage message) {
    MqttConnection c = connection;
    if (c == null) {
      return failed("not connected to " + settings.serverUri() + " (not started)", null);
    }
    Message m;
    try {
      m =
          new Message(
              message.topic(),
              message.payload(),
              message.qos(),
              message.retained(),
              message.userProperties(),
              message.responseTopic(),
              message.correlationData(),
              message.contentType(),
              message.messageExpirySeconds());
    } catch (IllegalArgumentException e) {
      return failed("publish to " + message.topic() + " refused: " + e.getMessage(), e);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    c.publish(m)
        .whenComplete(
            (ok, e) -> {
              if (e == null) {
                done.complete(null);
              } else {
                Throwable cause = unwrap(e);
                done.completeExceptionally(new AgentTransportException(cause.getMessage(), cause));
              }
            });
    return done;
  }

  private static CompletableFuture<Void> failed(String why, Throwable cause) {
    return CompletableFuture.failedFuture(new AgentTransportException(why, cause));
  }

  private static Throwable unwrap(Throwable e) {
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /**
   * Stops reconnecting, publishes {@code goodbye} (if not null) on the will topic so the fleet sees
   * a clean offline at once, disconnects (the broker then discards the will) and releases threads.
   */
  public void close(byte[] goodbye) {
    MqttConnection c;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      c = connection;
    }
    if (c == null) {
      return;
    }
    if (goodbye != null && settings.willTopic() != null && c.isConnected()) {
      try {
        publish(OutboundMessage.json(settings.willTopic(), goodbye, 1, true))
            .get(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        LOG.debugf("Offline status not delivered: %s", e.getMessage());
      }
    }
    c.close();
  }

  @Override
  public void close() {
    close(null);
  }
}
