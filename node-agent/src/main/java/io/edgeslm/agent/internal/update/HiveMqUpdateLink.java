package io.edgeslm.agent.internal.update;

import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.MqttWebSocketConfig;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.lifecycle.MqttClientDisconnectedContext;
import com.hivemq.client.mqtt.lifecycle.MqttDisconnectSource;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientBuilder;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperty;
import com.hivemq.client.mqtt.mqtt5.lifecycle.Mqtt5ClientConnectedContext;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5SimpleAuth;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckRestrictions;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAckReasonCode;
import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.internal.mqtt.TlsSocketFactories;
import io.edgeslm.protocol.UpdateAssignment;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@link UpdateLink} over its own HiveMQ MQTT 5 client connection (Netty), for the bulk chunk
 * transfer. Paho v5 1.2.5 copies every received PUBLISH twice through a stream that reads one byte
 * per call, which capped chunk transfer at a few percent of the broker's speed; this client decodes
 * from Netty buffers in bulk (measurements and the decision: {@code docs/adr/0021}).
 *
 * <p>Behaviour, the same as {@link PahoUpdateLink}'s:
 *
 * <ul>
 *   <li>Clean start, no broker session: durability is the transfer bitmap and the update journal.
 *   <li>The first connect is retried like every reconnect, with exponential backoff from 200 ms to
 *       10 s, until {@link #close}; every (re)connect subscribes all registered filters again and
 *       then runs the {@link #onConnected} actions.
 *   <li>Handlers run on one ordered worker thread, never on Netty's, in arrival order. Messages
 *       wait for it in a queue of at most {@value #MAX_QUEUED_BYTES} bytes; beyond that they are
 *       dropped and counted, like the agent transport's bounded inbound queue.
 *   <li>At most {@value #WINDOW} of our QoS 1 publishes are unacknowledged.
 *   <li>TLS with the JDK's defaults for {@code ssl://}, {@code mqtts://} and {@code wss://} URIs,
 *       or with the key and trust managers of {@link Settings} (client certificates); MQTT over
 *       WebSocket for {@code ws://} and {@code wss://}, as the agent's transport accepts.
 * </ul>
 *
 * <p>MQTT 5 only: chunks carry their header in user properties. Thread-safe.
 */
public final class HiveMqUpdateLink implements UpdateLink {

  /** Unacknowledged QoS 1 publishes at most. */
  static final int WINDOW = 16;

  /** Received QoS 1 messages the broker may have in flight to us. */
  static final int RECEIVE_MAXIMUM = 32;

  /**
   * Bytes of received messages waiting for their handler. Beyond it a message is dropped and
   * counted ({@link #droppedInbound}), as the agent's own transport does with its bounded queue:
   * the update protocol re-requests a lost chunk, and the controller repeats assignments.
   */
  static final long MAX_QUEUED_BYTES = 64L << 20;

  /**
   * Largest packet we accept: a chunk of the protocol's maximum size sent as base64 JSON ({@link
   * io.edgeslm.protocol.ChunkData}) plus headers. The broker drops larger ones for us.
   */
  static final int MAX_INBOUND_PACKET = UpdateAssignment.MAX_CHUNK_BYTES * 2 + (64 << 10);

  private static final long FIRST_DELAY_MS = 200;
  private static final long MAX_DELAY_MS = 10_000;
  private static final long SUBSCRIBE_TIMEOUT_MS = 10_000;

  /**
   * How to reach the broker.
   *
   * @param serverUri {@code tcp://host:port}, {@code mqtt://…}, {@code ssl://…}, {@code mqtts://…},
   *     {@code ws://host:port/path} or {@code wss://…}
   * @param clientId the MQTT client id (unique per connection: the agent uses its node id plus a
   *     suffix)
   * @param username optional user name
   * @param password optional password
   * @param keyManagers the client certificate for TLS, if any (turns TLS on)
   * @param trustManagers the broker's CA for TLS, if any (turns TLS on; else the JDK's trust)
   * @param keepAlive keep-alive interval, 1 s to 18 h
   */
  public record Settings(
      String serverUri,
      String clientId,
      Optional<String> username,
      Optional<String> password,
      Optional<KeyManagerFactory> keyManagers,
      Optional<TrustManagerFactory> trustManagers,
      Duration keepAlive) {

    public Settings {
      Objects.requireNonNull(serverUri, "serverUri");
      Objects.requireNonNull(clientId, "clientId");
      Objects.requireNonNull(username, "username");
      Objects.requireNonNull(password, "password");
      Objects.requireNonNull(keyManagers, "keyManagers");
      Objects.requireNonNull(trustManagers, "trustManagers");
      Objects.requireNonNull(keepAlive, "keepAlive");
      if (keepAlive.toSeconds() < 1 || keepAlive.toSeconds() > 65_535) {
        throw new IllegalArgumentException(
            "keepAlive must be 1 s to 65535 s (MQTT's two-byte field): got " + keepAlive);
      }
    }

    /**
     * Plain settings: no credentials, TLS only if the URI's scheme asks for it, 30 s keep-alive.
     */
    public static Settings of(String serverUri, String clientId) {
      return new Settings(
          serverUri,
          clientId,
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Duration.ofSeconds(30));
    }

    /**
     * The agent's broker settings (credentials, TLS files, keep-alive) for {@code serverUri} (the
     * configured URL, or the embedded broker's).
     *
     * @throws AgentConfigException naming the TLS key whose file cannot be used
     */
    public static Settings forBroker(AgentConfig.Broker b, String serverUri, String clientId)
        throws AgentConfigException {
      Optional<TlsSocketFactories.Managers> tls = TlsSocketFactories.managers(b);
      return new Settings(
          serverUri,
          clientId,
          b.username(),
          b.password(),
          tls.flatMap(TlsSocketFactories.Managers::keys),
          tls.flatMap(TlsSocketFactories.Managers::trust),
          b.keepAlive());
    }
  }

  private record Sub(String filter, int qos, Consumer<Message> handler) {}

  private final Settings settings;
  private final List<Sub> subs = new CopyOnWriteArrayList<>();
  private final List<Runnable> connectActions = new CopyOnWriteArrayList<>();
  // Messages wait here for the handler thread. Bounded by bytes (queued), not by count: chunks may
  // be anything from 4 KiB to 16 MiB. Messages that arrive after close() are dropped
  // (DiscardPolicy) instead of failing on Netty's thread.
  private final ExecutorService inbound =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.MILLISECONDS,
          new LinkedBlockingQueue<>(),
          r -> thread(r, "update-inbound"),
          new ThreadPoolExecutor.DiscardPolicy());
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicInteger generation = new AtomicInteger();
  private final Semaphore window = new Semaphore(WINDOW);
  private final Mqtt5AsyncClient client;
  private volatile long maxPacket = Long.MAX_VALUE;
  private volatile boolean ready;
  private volatile boolean closed;
  private volatile String lastError = "not connected yet";

  private HiveMqUpdateLink(Settings settings) throws IOException {
    this.settings = settings;
    this.client = build(settings);
  }

  /** Creates the client and starts connecting in the background (retrying until {@link #close}). */
  public static HiveMqUpdateLink connect(String serverUri, String clientId) throws IOException {
    return connect(Settings.of(serverUri, clientId));
  }

  /**
   * Creates the client and starts connecting in the background (retrying until {@link #close}).
   *
   * @throws IOException when the URI cannot name a broker (scheme, host or port)
   */
  public static HiveMqUpdateLink connect(Settings settings) throws IOException {
    HiveMqUpdateLink link = new HiveMqUpdateLink(Objects.requireNonNull(settings, "settings"));
    link.startConnect();
    return link;
  }

  private Mqtt5AsyncClient build(Settings s) throws IOException {
    URI uri;
    try {
      uri = new URI(s.serverUri());
    } catch (java.net.URISyntaxException e) {
      throw badUri(s.serverUri(), e.getMessage(), e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    boolean tlsScheme =
        switch (scheme) {
          case "tcp", "mqtt", "ws" -> false;
          case "ssl", "mqtts", "wss" -> true;
          default ->
              throw badUri(
                  s.serverUri(), "the scheme must be tcp, mqtt, ssl, mqtts, ws or wss", null);
        };
    boolean webSocket = scheme.startsWith("ws");
    if (uri.getHost() == null) {
      throw badUri(s.serverUri(), "it has no host", null);
    }
    boolean tls = tlsScheme || s.keyManagers().isPresent() || s.trustManagers().isPresent();
    int port = uri.getPort() > 0 ? uri.getPort() : webSocket ? (tls ? 443 : 80) : tls ? 8883 : 1883;
    Mqtt5ClientBuilder b =
        Mqtt5Client.builder()
            .identifier(s.clientId())
            .serverHost(uri.getHost())
            .serverPort(port)
            .addConnectedListener(ctx -> onConnect((Mqtt5ClientConnectedContext) ctx))
            .addDisconnectedListener(this::onDisconnect);
    if (webSocket) {
      String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceFirst("^/", "");
      b = b.webSocketConfig(MqttWebSocketConfig.builder().serverPath(path).build());
    }
    if (tls) {
      b =
          b.sslConfig(
              MqttClientSslConfig.builder()
                  .keyManagerFactory(s.keyManagers().orElse(null))
                  .trustManagerFactory(s.trustManagers().orElse(null))
                  .build());
    }
    return b.buildAsync();
  }

  private static IOException badUri(String uri, String why, Exception cause) {
    return new IOException(
        "Cannot use the broker URI '"
            + uri
            + "': "
            + why
            + ". Write it as tcp://host:port or ssl://host:port (ws:// and wss:// for WebSocket).",
        cause);
  }

  private void startConnect() {
    var connect =
        client
            .connectWith()
            .cleanStart(true)
            .sessionExpiryInterval(0)
            .keepAlive((int) settings.keepAlive().toSeconds())
            .restrictions()
            .receiveMaximum(RECEIVE_MAXIMUM)
            .maximumPacketSize(MAX_INBOUND_PACKET)
            .applyRestrictions();
    Optional<byte[]> password = settings.password().map(p -> p.getBytes(StandardCharsets.UTF_8));
    if (settings.username().isPresent()) {
      var auth = Mqtt5SimpleAuth.builder().username(settings.username().get());
      connect =
          connect.simpleAuth(
              password.isPresent() ? auth.password(password.get()).build() : auth.build());
    } else if (password.isPresent()) {
      connect = connect.simpleAuth(Mqtt5SimpleAuth.builder().password(password.get()).build());
    }
    // A failed first attempt is retried by onDisconnect like any reconnect; this future only
    // completes once an attempt succeeded (or the link was closed), so its outcome needs no action.
    connect.send();
  }

  private void onConnect(Mqtt5ClientConnectedContext ctx) {
    if (closed) {
      // A reconnect scheduled before close() got through: nobody wants this connection.
      client.disconnect();
      return;
    }
    int max = ctx.getConnAck().getRestrictions().getMaximumPacketSize();
    maxPacket =
        max >= Mqtt5ConnAckRestrictions.DEFAULT_MAXIMUM_PACKET_SIZE_NO_LIMIT ? Long.MAX_VALUE : max;
    lastError = "";
    // A clean session ends the client's publish flows with it (we switched its own resubscription
    // off), so every connect registers a new global callback before subscribing; one left over from
    // an earlier connection would ignore messages. The callback runs on Netty's thread and only
    // copies the message out and queues it, so the PUBACK follows at once: acknowledging from the
    // handler thread instead costs two thread hand-offs per message, and with the broker's small
    // in-flight window (Mosquitto: 20) that halved throughput on a loaded machine (ADR 0021).
    int gen = generation.incrementAndGet();
    client.publishes(
        MqttGlobalPublishFilter.ALL,
        p -> {
          if (gen == generation.get()) {
            enqueue(p);
          }
        });
    // Never block Netty's thread: subscribe asynchronously, then run the connect actions on the
    // worker once every SUBACK is in (a failed subscription is renewed by the next reconnect).
    List<CompletableFuture<Mqtt5SubAck>> acks = new ArrayList<>();
    for (Sub s : subs) {
      acks.add(subscribeAsync(s.filter(), s.qos()));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new))
        .whenComplete(
            (ok, err) -> {
              ready = true;
              if (closed) {
                return;
              }
              for (Runnable r : connectActions) {
                inbound.execute(r);
              }
            });
  }

  private void onDisconnect(MqttClientDisconnectedContext ctx) {
    ready = false;
    lastError = String.valueOf(ctx.getCause().getMessage());
    if (closed || ctx.getSource() == MqttDisconnectSource.USER) {
      ctx.getReconnector().reconnect(false);
      return;
    }
    int attempts = Math.min(ctx.getReconnector().getAttempts(), 20);
    long delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS << Math.min(attempts, 10));
    // We subscribe again ourselves (onConnect), so the client must not replay its own list too:
    // a second SUBSCRIBE would deliver a retained assignment twice.
    ctx.getReconnector()
        .reconnect(true)
        .resubscribeIfSessionExpired(false)
        .resubscribeIfSessionPresent(false)
        .republishIfSessionExpired(false)
        .delay(delay, TimeUnit.MILLISECONDS);
  }

  private CompletableFuture<Mqtt5SubAck> subscribeAsync(String filter, int qos) {
    return client.subscribeWith().topicFilter(filter).qos(qos(qos)).send();
  }

  private void enqueue(Mqtt5Publish p) {
    if (closed) {
      return;
    }
    Message m = toMessage(p);
    long size = m.payload().length;
    // Always take a message when nothing waits, so one of the largest allowed size still passes.
    if (queuedBytes.addAndGet(size) > MAX_QUEUED_BYTES && queuedBytes.get() != size) {
      queuedBytes.addAndGet(-size);
      dropped.incrementAndGet();
      return;
    }
    inbound.execute(
        () -> {
          queuedBytes.addAndGet(-size);
          dispatch(m);
        });
  }

  private static Message toMessage(Mqtt5Publish p) {
    String topic = p.getTopic().toString();
    Map<String, String> props = new LinkedHashMap<>();
    for (Mqtt5UserProperty u : p.getUserProperties().asList()) {
      props.put(u.getName().toString(), u.getValue().toString());
    }
    return new Message(topic, p.getPayloadAsBytes(), props);
  }

  private void dispatch(Message m) {
    for (Sub s : subs) {
      if (matches(s.filter(), m.topic())) {
        try {
          s.handler().accept(m);
        } catch (RuntimeException e) {
          // One handler's bug must not stop delivery to the others or acknowledge nothing.
          lastError = "handler for " + s.filter() + " failed: " + e;
        }
      }
    }
  }

  @Override
  public void publish(String topic, byte[] payload, int qos, boolean retained) throws IOException {
    if (!isConnected()) {
      throw new IOException(
          "Not connected to the broker (" + lastError + "); the update continues after reconnect.");
    }
    try {
      if (qos > 0 && !window.tryAcquire(10, TimeUnit.SECONDS)) {
        throw new IOException("The broker acknowledged nothing for 10 s; publish to " + topic);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Interrupted while publishing to " + topic, e);
    }
    CompletableFuture<?> sent;
    try {
      sent =
          client.publishWith().topic(topic).payload(payload).qos(qos(qos)).retain(retained).send();
    } catch (RuntimeException e) {
      if (qos > 0) {
        window.release();
      }
      throw new IOException("Publishing to " + topic + " failed: " + e.getMessage(), e);
    }
    if (qos > 0) {
      // Released on PUBACK, on refusal and when the connection is lost (the clean session's
      // unacknowledged publishes then fail), so a lost connection cannot leak permits.
      sent.whenComplete((r, e) -> window.release());
    }
  }

  @Override
  public void subscribe(String filter, int qos, Consumer<Message> handler) throws IOException {
    subs.add(new Sub(filter, qos, handler));
    if (!isConnected()) {
      return; // onConnect subscribes it
    }
    try {
      Mqtt5SubAck ack =
          subscribeAsync(filter, qos).get(SUBSCRIBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      Mqtt5SubAckReasonCode code = ack.getReasonCodes().getFirst();
      if (code.isError()) {
        throw new IOException(
            "The broker refused the subscription to "
                + filter
                + " ("
                + code
                + "). Check the broker's ACL for this node.");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Interrupted while subscribing to " + filter, e);
    } catch (ExecutionException | TimeoutException e) {
      // Renewed by the next reconnect; a silent broker is also noticed by the keep-alive.
      throw new IOException("Subscribing to " + filter + " failed: " + e, e);
    }
  }

  /** Received messages dropped because {@value #MAX_QUEUED_BYTES} bytes waited for handlers. */
  public long droppedInbound() {
    return dropped.get();
  }

  @Override
  public long maxPacketSize() {
    return maxPacket;
  }

  @Override
  public boolean isConnected() {
    return client.getState().isConnected();
  }

  /** Waits up to {@code millis} until connected with every subscription back. */
  public boolean awaitConnected(long millis) {
    long until = System.nanoTime() + millis * 1_000_000;
    while (!(ready && isConnected()) && System.nanoTime() < until) {
      sleep(20);
    }
    return ready && isConnected();
  }

  @Override
  public void onConnected(Runnable action) {
    connectActions.add(action);
  }

  @Override
  public void close() {
    closed = true;
    try {
      client.disconnect().get(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // not connected (or no answer): closing anyway; onDisconnect stops any reconnect
    }
    inbound.shutdownNow();
  }

  private static MqttQos qos(int qos) {
    MqttQos q = MqttQos.fromCode(qos);
    if (q == null) {
      throw new IllegalArgumentException("MQTT QoS must be 0, 1 or 2: got " + qos);
    }
    return q;
  }

  static boolean matches(String filter, String topic) {
    String[] f = filter.split("/", -1);
    String[] t = topic.split("/", -1);
    for (int i = 0; i < f.length; i++) {
      if (f[i].equals("#")) {
        return true;
      }
      if (i >= t.length || (!f[i].equals("+") && !f[i].equals(t[i]))) {
        return false;
      }
    }
    return f.length == t.length;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Thread thread(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
