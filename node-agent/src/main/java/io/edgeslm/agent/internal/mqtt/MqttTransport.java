package io.edgeslm.agent.internal.mqtt;

import io.edgeslm.agent.AgentTransportException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.SocketFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.eclipse.paho.mqttv5.common.util.MqttTopicValidator;
import org.jboss.logging.Logger;

/**
 * The agent's one MQTT 5 connection, over Eclipse Paho v5, with Paho's known defects designed out
 * (from the Eclipse Paho Java client's issue tracker, eclipse-paho/paho.mqtt.java, and our own
 * tests; see {@code docs/node-agent.md}):
 *
 * <ul>
 *   <li>The transport owns reconnection, first connect included: Paho's automatic reconnect does
 *       not retry a first connect that fails, so it is off and every attempt is scheduled here with
 *       jittered exponential backoff.
 *   <li>Every (re)connect resubscribes every registered filter, because Paho does not restore
 *       subscriptions of a clean session.
 *   <li>Nothing runs on Paho's callback thread except a hand-off: subscribing or publishing from
 *       there can deadlock. Received messages go to a bounded queue served by one worker thread;
 *       connection events to a scheduler thread.
 *   <li>Unacknowledged publishes are bounded by the transport's own window (the smaller of the
 *       configured bound and the broker's Receive Maximum), so Paho never reports "too many
 *       publishes in progress" (32202).
 *   <li>Clean start with session expiry 0: durability is the agent's journal, not a broker session
 *       (persistent Paho sessions grow memory).
 * </ul>
 *
 * <p>Thread-safe. Handlers run on the single inbound worker thread, in arrival order.
 */
public final class MqttTransport implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(MqttTransport.class);

  /** Reason code of a failed SUBACK entry (MQTT 5 section 3.9.3: 0x80 and above). */
  private static final int SUBACK_FAILURE = 0x80;

  /** Receives one message on the inbound worker thread. */
  @FunctionalInterface
  public interface MessageHandler {
    void onMessage(InboundMessage message) throws Exception;
  }

  /** Hears about the connection; called on the transport's event thread. */
  public interface ConnectionListener {
    /** Connected and all registered filters resubscribed. */
    void onConnected(boolean firstTime);

    /** The connection was lost or refused; the transport keeps trying. */
    default void onDisconnected(String reason) {}
  }

  /**
   * What the transport needs to connect.
   *
   * @param serverUri {@code tcp://host:port} or {@code ssl://host:port}
   * @param clientId the MQTT client id (the node id)
   * @param username optional user name
   * @param password optional password
   * @param socketFactory TLS socket factory with the client certificate, or null for the default
   * @param keepAlive keep-alive interval
   * @param connectTimeout how long one connect attempt may take
   * @param backoff delays between connect attempts
   * @param maxInflight the transport's bound on unacknowledged publishes
   * @param inboundQueue bound on received messages waiting for the worker thread
   * @param willTopic Last Will topic (retained, QoS 1)
   * @param willPayload Last Will payload
   * @param willDelay Will Delay Interval
   */
  public record Settings(
      String serverUri,
      String clientId,
      Optional<String> username,
      Optional<String> password,
      SocketFactory socketFactory,
      Duration keepAlive,
      Duration connectTimeout,
      Backoff backoff,
      int maxInflight,
      int inboundQueue,
      String willTopic,
      byte[] willPayload,
      Duration willDelay) {

    public Settings {
      Objects.requireNonNull(serverUri, "serverUri");
      Objects.requireNonNull(clientId, "clientId");
      Objects.requireNonNull(username, "username");
      Objects.requireNonNull(password, "password");
      Objects.requireNonNull(keepAlive, "keepAlive");
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      Objects.requireNonNull(backoff, "backoff");
      Objects.requireNonNull(willTopic, "willTopic");
      Objects.requireNonNull(willPayload, "willPayload");
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

  /** Per-connection state: a new window each time, so a lost connection's permits cannot leak. */
  private static final class Session {
    final long id;
    final Semaphore window;
    final int windowSize;
    final Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();

    Session(long id, int windowSize) {
      this.id = id;
      this.windowSize = windowSize;
      this.window = new Semaphore(windowSize);
    }
  }

  private final Settings settings;
  private final MqttAsyncClient client;
  private final ScheduledExecutorService events;
  private final ThreadPoolExecutor inbound;
  private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
  private final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicReference<Session> session = new AtomicReference<>();
  private final AtomicInteger failedAttempts = new AtomicInteger();
  private final AtomicLong sessionIds = new AtomicLong();
  private final AtomicLong publishIds = new AtomicLong();
  private final Object publishLock = new Object();
  private final AtomicLong connects = new AtomicLong();
  private final AtomicLong droppedInbound = new AtomicLong();
  private final AtomicLong publishFailures = new AtomicLong();
  private volatile boolean started;
  private volatile boolean closed;
  private volatile boolean connecting;
  private volatile String lastError = "not connected yet";

  public MqttTransport(Settings settings) throws AgentTransportException {
    this.settings = Objects.requireNonNull(settings, "settings");
    try {
      this.client =
          new MqttAsyncClient(settings.serverUri(), settings.clientId(), new MemoryPersistence());
    } catch (MqttException | IllegalArgumentException e) {
      throw new AgentTransportException(
          "Cannot create an MQTT client for "
              + settings.serverUri()
              + ": "
              + e.getMessage()
              + ". Check edgeslm.agent.broker.url.",
          e);
    }
    this.events =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "mqtt-events"));
    this.inbound =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(settings.inboundQueue()),
            r -> daemon(r, "mqtt-inbound"));
    client.setCallback(new Callback());
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Registers a connection listener; call before {@link #start()}. */
  public void addListener(ConnectionListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Registers {@code handler} for {@code filter}; it is subscribed now if connected and again after
   * every reconnect.
   */
  public void subscribe(String filter, int qos, MessageHandler handler) {
    MqttTopicValidator.validate(filter, true, true);
    subscriptions.add(new Subscription(filter, qos, handler));
    if (isConnected()) {
      events.execute(() -> subscribeAll(List.of(subscriptions.getLast()), session.get()));
    }
  }

  /** Starts connecting in the background; returns at once. */
  public void start() {
    if (started) {
      return;
    }
    started = true;
    events.execute(this::attemptConnect);
  }

  /** Whether the connection is up and subscriptions have been sent. */
  public boolean isConnected() {
    return session.get() != null && client.isConnected();
  }

  /** Why the transport is not connected, for health output. */
  public String lastError() {
    return lastError;
  }

  /** Number of successful connects so far. */
  public long connectCount() {
    return connects.get();
  }

  /** Received messages dropped because the inbound queue was full. */
  public long droppedInbound() {
    return droppedInbound.get();
  }

  /** Publishes that failed (not connected, window full, broker refused). */
  public long publishFailures() {
    return publishFailures.get();
  }

  /** Unacknowledged publishes right now. */
  public int inflight() {
    Session s = session.get();
    return s == null ? 0 : s.windowSize - s.window.availablePermits();
  }

  /** Messages waiting for the inbound worker. */
  public int inboundDepth() {
    return inbound.getQueue().size();
  }

  /**
   * Publishes {@code message}. Completes when the broker acknowledged it (QoS 1/2) or when it was
   * written (QoS 0); fails with {@link AgentTransportException} when not connected, when the
   * in-flight window stays full for the connect timeout, or when the connection is lost first.
   */
  public CompletableFuture<Void> publish(OutboundMessage message) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Session s = session.get();
    if (s == null || !client.isConnected()) {
      return failed(
          done, "not connected to " + settings.serverUri() + " (" + lastError + ")", null);
    }
    boolean acquired;
    try {
      acquired = s.window.tryAcquire(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return failed(done, "interrupted while waiting for the in-flight window", e);
    }
    if (!acquired) {
      return failed(
          done,
          "the in-flight window of "
              + s.windowSize
              + " publishes stayed full for "
              + settings.connectTimeout().toSeconds()
              + " s",
          null);
    }
    long id = publishIds.incrementAndGet();
    s.pending.put(id, done);
    done.whenComplete(
        (ok, err) -> {
          if (s.pending.remove(id) != null) {
            s.window.release();
          }
        });
    try {
      // Paho 1.2.5 is not safe for concurrent publish calls: with several threads publishing at
      // once, Mosquitto was seen closing the connection with a protocol error (reason 130).
      // publish() only queues the packet, so taking turns here costs next to nothing.
      synchronized (publishLock) {
        client.publish(
            message.topic(),
            toPaho(message),
            null,
            new MqttActionListener() {
              @Override
              public void onSuccess(IMqttToken token) {
                done.complete(null);
              }

              @Override
              public void onFailure(IMqttToken token, Throwable error) {
                failed(done, "publish to " + message.topic() + " failed: " + error, error);
              }
            });
      }
    } catch (MqttException | RuntimeException e) {
      failed(done, "publish to " + message.topic() + " refused: " + e.getMessage(), e);
    }
    return done;
  }

  private CompletableFuture<Void> failed(CompletableFuture<Void> f, String why, Throwable cause) {
    if (!f.isDone()) {
      publishFailures.incrementAndGet();
    }
    f.completeExceptionally(new AgentTransportException(why, cause));
    return f;
  }

  private static MqttMessage toPaho(OutboundMessage m) {
    MqttMessage msg = new MqttMessage(m.payload());
    msg.setQos(m.qos());
    msg.setRetained(m.retained());
    MqttProperties props = new MqttProperties();
    m.correlationData().ifPresent(props::setCorrelationData);
    m.messageExpirySeconds().ifPresent(props::setMessageExpiryInterval);
    m.contentType().ifPresent(props::setContentType);
    if (m.contentType().map(t -> t.startsWith("application/json")).orElse(false)) {
      props.setPayloadFormat(true);
    }
    if (!m.userProperties().isEmpty()) {
      List<UserProperty> ups = new ArrayList<>();
      m.userProperties().forEach(e -> ups.add(new UserProperty(e.getKey(), e.getValue())));
      props.setUserProperties(ups);
    }
    msg.setProperties(props);
    return msg;
  }

  private MqttConnectionOptions options() {
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(true);
    o.setSessionExpiryInterval(0L);
    o.setAutomaticReconnect(false);
    o.setKeepAliveInterval((int) settings.keepAlive().toSeconds());
    o.setConnectionTimeout((int) Math.max(1, settings.connectTimeout().toSeconds()));
    o.setReceiveMaximum(Math.min(settings.inboundQueue(), 65_535));
    settings.username().ifPresent(o::setUserName);
    settings.password().ifPresent(p -> o.setPassword(p.getBytes(StandardCharsets.UTF_8)));
    SocketFactory base = settings.socketFactory();
    if (base == null
        && (settings.serverUri().startsWith("ssl:") || settings.serverUri().startsWith("wss:"))) {
      base = javax.net.ssl.SSLSocketFactory.getDefault();
    }
    o.setSocketFactory(NoDelaySocketFactories.wrap(base));
    MqttMessage will = new MqttMessage(settings.willPayload());
    will.setQos(1);
    will.setRetained(true);
    o.setWill(settings.willTopic(), will);
    MqttProperties willProps = new MqttProperties();
    willProps.setWillDelayInterval(settings.willDelay().toSeconds());
    willProps.setContentType("application/json");
    willProps.setPayloadFormat(true);
    o.setWillMessageProperties(willProps);
    return o;
  }

  private void attemptConnect() {
    if (closed || connecting || client.isConnected()) {
      return;
    }
    connecting = true;
    try {
      client.connect(
          options(),
          null,
          new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              Integer receiveMax =
                  token.getResponseProperties() == null
                      ? null
                      : token.getResponseProperties().getReceiveMaximum();
              events.execute(() -> onConnect(receiveMax));
            }

            @Override
            public void onFailure(IMqttToken token, Throwable error) {
              events.execute(() -> onConnectFailed(error));
            }
          });
    } catch (MqttException | RuntimeException e) {
      onConnectFailed(e);
    }
  }

  private void onConnectFailed(Throwable error) {
    connecting = false;
    lastError = "connect to " + settings.serverUri() + " failed: " + describe(error);
    scheduleReconnect();
  }

  private void scheduleReconnect() {
    if (closed) {
      return;
    }
    Duration delay =
        settings
            .backoff()
            .delay(failedAttempts.getAndIncrement(), ThreadLocalRandom.current()::nextDouble);
    LOG.infof("%s; next attempt in %d ms", lastError, delay.toMillis());
    events.schedule(this::attemptConnect, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void onConnect(Integer serverReceiveMax) {
    connecting = false;
    if (closed) {
      return;
    }
    int window =
        Math.min(settings.maxInflight(), serverReceiveMax == null ? 65_535 : serverReceiveMax);
    Session s = new Session(sessionIds.incrementAndGet(), Math.max(1, window));
    boolean first = connects.getAndIncrement() == 0;
    failedAttempts.set(0);
    lastError = "connected";
    subscribeAll(subscriptions, s);
    session.set(s);
    LOG.infof(
        "Connected to %s as %s (in-flight window %d, %d subscriptions)",
        settings.serverUri(), settings.clientId(), s.windowSize, subscriptions.size());
    for (ConnectionListener l : listeners) {
      try {
        l.onConnected(first);
      } catch (RuntimeException e) {
        LOG.warn("A connection listener failed", e);
      }
    }
  }

  private void subscribeAll(List<Subscription> subs, Session forSession) {
    if (subs.isEmpty()) {
      return;
    }
    MqttSubscription[] array = new MqttSubscription[subs.size()];
    for (int i = 0; i < array.length; i++) {
      array[i] = new MqttSubscription(subs.get(i).filter(), subs.get(i).qos());
    }
    try {
      IMqttToken token = client.subscribe(array, null, null, new MqttProperties());
      token.waitForCompletion(settings.connectTimeout().toMillis());
      int[] codes = token.getReasonCodes();
      for (int i = 0; codes != null && i < codes.length && i < array.length; i++) {
        if (codes[i] >= SUBACK_FAILURE) {
          LOG.errorf(
              "The broker refused the subscription to %s (reason code 0x%02x). Check the broker's"
                  + " ACL for this node.",
              array[i].getTopic(), codes[i]);
        }
      }
    } catch (MqttException e) {
      LOG.warnf(
          "Subscribing %d filters failed: %s; dropping the connection to retry",
          array.length, describe(e));
      forceReconnect(forSession);
    }
  }

  private void forceReconnect(Session s) {
    try {
      client.disconnectForcibly(0, 1000, false);
    } catch (MqttException e) {
      LOG.debug("disconnectForcibly failed", e);
    }
    onConnectionLost(s, "resubscribe failed");
  }

  private void onConnectionLost(Session lost, String reason) {
    if (lost != null && !session.compareAndSet(lost, null)) {
      return;
    }
    if (lost != null) {
      AgentTransportException gone =
          new AgentTransportException("connection lost before the broker acknowledged", null);
      lost.pending.values().forEach(f -> f.completeExceptionally(gone));
    }
    lastError = "connection lost: " + reason;
    LOG.warnf("MQTT %s", lastError);
    for (ConnectionListener l : listeners) {
      try {
        l.onDisconnected(reason);
      } catch (RuntimeException e) {
        LOG.warn("A connection listener failed", e);
      }
    }
    scheduleReconnect();
  }

  private static String describe(Throwable e) {
    if (e instanceof MqttException m) {
      Throwable cause = m.getCause();
      return m.getMessage()
          + " (reason "
          + m.getReasonCode()
          + (cause == null
              ? ""
              : ", " + cause.getClass().getSimpleName() + ": " + cause.getMessage())
          + ")";
    }
    return String.valueOf(e);
  }

  private void dispatch(InboundMessage message) {
    for (Subscription s : subscriptions) {
      boolean matches;
      try {
        matches = MqttTopicValidator.isMatched(s.filter(), message.topic());
      } catch (IllegalArgumentException e) {
        matches = false;
      }
      if (matches) {
        try {
          s.handler().onMessage(message);
        } catch (Exception e) {
          LOG.warnf(e, "Handler for %s failed on a message from %s", s.filter(), message.topic());
        }
      }
    }
  }

  /**
   * Stops reconnecting, publishes {@code goodbye} (if not null) on the will topic so the fleet sees
   * a clean offline at once, disconnects and releases threads.
   */
  public void close(byte[] goodbye) {
    if (closed) {
      return;
    }
    if (goodbye != null && isConnected()) {
      try {
        publish(OutboundMessage.json(settings.willTopic(), goodbye, 1, true))
            .get(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        LOG.debugf("Offline status not delivered: %s", e.getMessage());
      }
    }
    closed = true;
    try {
      if (client.isConnected()) {
        client.disconnect(2000).waitForCompletion(3000);
      }
    } catch (MqttException e) {
      LOG.debug("disconnect failed", e);
    }
    try {
      client.close(true);
    } catch (MqttException e) {
      LOG.debug("close failed", e);
    }
    events.shutdownNow();
    inbound.shutdownNow();
  }

  @Override
  public void close() {
    close(null);
  }

  private final class Callback implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse response) {
      Session s = session.get();
      String reason = response == null ? "unknown" : String.valueOf(response);
      if (response != null && response.getException() != null) {
        reason = describe(response.getException());
      }
      String why = reason;
      if (!closed) {
        events.execute(() -> onConnectionLost(s, why));
      }
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
      LOG.warnf("MQTT protocol error: %s", describe(exception));
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      long now = System.nanoTime();
      MqttProperties p = message.getProperties();
      List<Map.Entry<String, String>> ups = new ArrayList<>();
      if (p != null && p.getUserProperties() != null) {
        for (UserProperty up : p.getUserProperties()) {
          ups.add(Map.entry(up.getKey(), up.getValue()));
        }
      }
      InboundMessage in =
          new InboundMessage(
              topic,
              message.getPayload(),
              message.getQos(),
              message.isRetained(),
              Optional.ofNullable(p == null ? null : p.getResponseTopic()),
              Optional.ofNullable(p == null ? null : p.getCorrelationData()),
              Optional.ofNullable(p == null ? null : p.getMessageExpiryInterval()),
              ups,
              now);
      try {
        inbound.execute(() -> dispatch(in));
      } catch (RejectedExecutionException e) {
        long n = droppedInbound.incrementAndGet();
        if (Long.bitCount(n) == 1) {
          LOG.warnf(
              "Inbound queue full (%d): dropped a message from %s (%d dropped so far). Raise"
                  + " edgeslm.agent.broker.inbound-queue or reduce the message rate.",
              settings.inboundQueue(), topic, n);
        }
      }
    }

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String serverUri) {}

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }

  /** For tests: the executor that runs handlers. */
  ExecutorService inboundExecutor() {
    return inbound;
  }
}
