package io.edgeslm.mqtt.internal;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientBuilder;
import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.MqttClientSslConfigBuilder;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.lifecycle.MqttClientDisconnectedContext;
import com.hivemq.client.mqtt.lifecycle.MqttDisconnectSource;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuth;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAck;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperties;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserPropertiesBuilder;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperty;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5SimpleAuth;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5SimpleAuthBuilder;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5DisconnectReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishBuilder;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck;
import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConfigurationException;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttSettings;
import io.edgeslm.mqtt.MqttTransportException;
import io.edgeslm.mqtt.MqttVersion;
import io.edgeslm.mqtt.TlsOptions;
import io.edgeslm.mqtt.Topics;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.KeyManagerFactory;

/**
 * {@link MqttConnection} over the HiveMQ MQTT client (Netty). The client's own reconnect and
 * resubscribe are not used: a scheduler here reconnects with the settings' backoff and may switch
 * the protocol version ({@link VersionChoice}), which needs a new client object; every connect
 * subscribes the registered filters itself.
 */
public final class HiveMqConnection implements MqttConnection {

  private static final System.Logger LOG = System.getLogger(HiveMqConnection.class.getName());

  private record Sub(String filter, int qos, Consumer<Message> handler) {}

  private final MqttSettings settings;
  private final String host;
  private final int port;
  private final boolean tls;
  private final Optional<KeyManagerFactory> keys;
  private final List<Sub> subs = new CopyOnWriteArrayList<>();
  private final List<Consumer<Connected>> connectedHooks = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> disconnectedHooks = new CopyOnWriteArrayList<>();
  private final ThreadPoolExecutor worker =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.MILLISECONDS,
          new LinkedBlockingQueue<>(),
          r -> daemon(r, "mqtt-worker"),
          new ThreadPoolExecutor.DiscardPolicy());
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "mqtt-connect"));
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicInteger generation = new AtomicInteger();
  private final AtomicLong connects = new AtomicLong();
  private final AtomicLong publishFailures = new AtomicLong();
  private final InboundBudget inbound;
  private volatile MqttVersion version;
  private volatile Mqtt5AsyncClient v5;
  private volatile Mqtt3AsyncClient v3;
  private volatile InflightWindow window;
  private volatile boolean ready;
  // The generation whose CONNACK came while its subscriptions are not yet acknowledged; -1 else.
  private volatile int subscribingGen = -1;
  private volatile boolean closed;
  private volatile int brokerMaxPacket = Integer.MAX_VALUE;
  private volatile String lastError = "not connected yet";

  private HiveMqConnection(
      MqttSettings settings, String host, int port, boolean tls, Optional<KeyManagerFactory> keys) {
    this.settings = settings;
    this.keys = keys;
    this.inbound = new InboundBudget(settings.inboundQueueBytes());
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.version = VersionChoice.first(settings.version());
  }

  /** See {@link MqttConnection#open}. */
  public static HiveMqConnection open(MqttSettings settings, Consumer<MqttConnection> setup)
      throws MqttConfigurationException {
    HiveMqConnection c = create(settings);
    setup.accept(c);
    c.start();
    return c;
  }

  /**
   * See {@link MqttConnection#warmUp}: builds an MQTT 5 client and a CONNECT with a will as {@link
   * #attempt} does, and drops both. Building connects nothing and starts no event loop; it runs the
   * class initialisation of the client's builders, configuration, codecs, dependency injection and
   * RxJava (whose scheduler class starts its two housekeeping threads, as a first connect would),
   * which a first connect otherwise does on its own critical path.
   */
  public static void warmUp() {
    Mqtt5AsyncClient c =
        MqttClient.builder()
            .identifier("warm-up")
            .serverHost("localhost")
            .serverPort(1883)
            .useMqttVersion5()
            .buildAsync();
    c.connectWith()
        .cleanStart(true)
        .sessionExpiryInterval(0)
        .keepAlive(30)
        .restrictions()
        .receiveMaximum(16)
        .maximumPacketSize(1 << 20)
        .applyRestrictions()
        .willPublish()
        .topic("warm-up/status")
        .payload(new byte[] {'{', '}'})
        .qos(MqttQos.AT_LEAST_ONCE)
        .retain(true)
        .delayInterval(5)
        .contentType("application/json")
        .applyWillPublish();
  }

  /** See {@link MqttConnection#create}. */
  public static HiveMqConnection create(MqttSettings settings) throws MqttConfigurationException {
    URI uri;
    try {
      uri = new URI(settings.serverUri());
    } catch (URISyntaxException e) {
      throw badUri(settings.serverUri(), e.getMessage(), e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    boolean tlsScheme =
        switch (scheme) {
          case "tcp", "mqtt" -> false;
          case "ssl", "mqtts" -> true;
          default ->
              throw badUri(
                  settings.serverUri(), "the scheme must be tcp, mqtt, ssl or mqtts", null);
        };
    if (uri.getHost() == null) {
      throw badUri(settings.serverUri(), "it has no host", null);
    }
    boolean tls = tlsScheme || settings.tls().isPresent();
    int port = uri.getPort() > 0 ? uri.getPort() : tls ? 8883 : 1883;
    Optional<KeyManagerFactory> keys = settings.tls().flatMap(TlsOptions::keyManagers);
    if (tls && keys.isEmpty()) {
      keys = JdkKeyStore.fromSystemProperties(System.getProperties());
    }
    return new HiveMqConnection(settings, uri.getHost(), port, tls, keys);
  }

  @Override
  public void start() {
    if (!closed && started.compareAndSet(false, true)) {
      scheduler.execute(this::attempt);
    }
  }

  private static MqttConfigurationException badUri(String uri, String why, Exception cause) {
    return new MqttConfigurationException(
        "Cannot use the broker URI '"
            + uri
            + "': "
            + why
            + ". Write it as tcp://host:port or ssl://host:port.",
        cause);
  }

  private MqttClientBuilder base() {
    MqttClientBuilder b =
        MqttClient.builder()
            .identifier(settings.clientId())
            .serverHost(host)
            .serverPort(port)
            .addDisconnectedListener(this::onDisconnected);
    if (tls) {
      MqttClientSslConfigBuilder ssl = MqttClientSslConfig.builder();
      keys.ifPresent(ssl::keyManagerFactory);
      settings.tls().flatMap(t -> t.trustManagers()).ifPresent(ssl::trustManagerFactory);
      if (settings.tls().isPresent() && !settings.tls().get().verifyHostname()) {
        ssl.hostnameVerifier((h, s) -> true);
      }
      b = b.sslConfig(ssl.build());
    }
    return b;
  }

  /** Runs on the scheduler: one connect attempt with the current version. */
  private void attempt() {
    if (closed) {
      return;
    }
    int gen = generation.incrementAndGet();
    MqttVersion tried = version;
    CompletableFuture<?> connack;
    if (tried == MqttVersion.V5) {
      Mqtt5AsyncClient c = base().useMqttVersion5().buildAsync();
      v5 = c;
      v3 = null;
      c.publishes(MqttGlobalPublishFilter.ALL, p -> enqueue(gen, from5(p)), ON_NETWORK_THREAD);
      var connect =
          c.connectWith()
              .cleanStart(settings.cleanStart())
              .sessionExpiryInterval(settings.sessionExpiry().toSeconds())
              .keepAlive((int) settings.keepAlive().toSeconds())
              .restrictions()
              .receiveMaximum(settings.receiveMaximum())
              .maximumPacketSize(settings.maxPacketSize())
              .applyRestrictions();
      if (settings.username().isPresent() || settings.password().isPresent()) {
        Mqtt5SimpleAuthBuilder a = Mqtt5SimpleAuth.builder();
        Mqtt5SimpleAuthBuilder.Complete done = null;
        if (settings.username().isPresent()) {
          done = a.username(settings.username().get());
        }
        if (settings.password().isPresent()) {
          byte[] pw = settings.password().get().getBytes(StandardCharsets.UTF_8);
          done = done == null ? a.password(pw) : done.password(pw);
        }
        connect = connect.simpleAuth(done.build());
      }
      if (settings.will().isPresent()) {
        var w = settings.will().get();
        var wb =
            connect
                .willPublish()
                .topic(w.topic())
                .payload(w.payload())
                .qos(qos(w.qos()))
                .retain(w.retain())
                .delayInterval(w.delay().toSeconds());
        if (w.contentType().isPresent()) {
          wb = wb.contentType(w.contentType().get());
        }
        connect = wb.applyWillPublish();
      }
      connack = connect.send().thenAccept(ack -> connected5(gen, ack));
    } else {
      Mqtt3AsyncClient c = base().useMqttVersion3().buildAsync();
      v3 = c;
      v5 = null;
      c.publishes(MqttGlobalPublishFilter.ALL, p -> enqueue(gen, from3(p)), ON_NETWORK_THREAD);
      var connect =
          c.connectWith()
              .cleanSession(settings.cleanStart() && settings.sessionExpiry().isZero())
              .keepAlive((int) settings.keepAlive().toSeconds());
      if (settings.username().isPresent()) {
        var a = Mqtt3SimpleAuth.builder().username(settings.username().get());
        if (settings.password().isPresent()) {
          a = a.password(settings.password().get().getBytes(StandardCharsets.UTF_8));
        }
        connect = connect.simpleAuth(a.build());
      }
      if (settings.will().isPresent()) {
        var w = settings.will().get();
        connect =
            connect
                .willPublish()
                .topic(w.topic())
                .payload(w.payload())
                .qos(qos(w.qos()))
                .retain(w.retain())
                .applyWillPublish();
      }
      connack = connect.send().thenAccept(ack -> connected3(gen, ack));
    }
    connack.exceptionally(
        e -> {
          scheduler.execute(() -> connectFailed(gen, tried, unwrap(e)));
          return null;
        });
  }

  private static Throwable unwrap(Throwable e) {
    while (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  private void connectFailed(int gen, MqttVersion tried, Throwable e) {
    if (gen != generation.get() || closed) {
      return;
    }
    VersionChoice.Failure f = VersionChoice.Failure.OTHER;
    if (e instanceof Mqtt5ConnAckException c5
        && c5.getMqttMessage().getReasonCode()
            == Mqtt5ConnAckReasonCode.UNSUPPORTED_PROTOCOL_VERSION) {
      f = VersionChoice.Failure.UNSUPPORTED_VERSION;
    } else if (e instanceof com.hivemq.client.mqtt.exceptions.ConnectionClosedException
        || e instanceof com.hivemq.client.mqtt.exceptions.MqttDecodeException
        || unreadableConnAck(e)) {
      f = VersionChoice.Failure.CLOSED_BEFORE_CONNACK;
    }
    MqttVersion next = VersionChoice.next(settings.version(), tried, f);
    lastError = "connect to " + settings.serverUri() + " (" + tried + ") failed: " + e;
    if (f != VersionChoice.Failure.OTHER && next == tried && tried == MqttVersion.V5) {
      lastError +=
          ". The broker does not speak MQTT 5; let this connection fall back to MQTT 3.1.1"
              + " (version AUTO) or use an MQTT 5 broker";
    }
    if (next != tried) {
      LOG.log(
          System.Logger.Level.INFO, "{0} refused MQTT 5; trying MQTT 3.1.1", settings.serverUri());
      version = next;
      scheduler.execute(this::attempt);
      return;
    }
    scheduleRetry();
  }

  /**
   * Whether the client gave up on the broker's CONNACK because it could not read it as MQTT 5. A
   * broker that speaks MQTT 3.1.1 only answers an MQTT 5 CONNECT with its own CONNACK, return code
   * 0x01 "unacceptable protocol version" (MQTT 3.1.1 section 3.2.2.3); 0x01 is no MQTT 5 reason
   * code, so the HiveMQ client disconnects with Malformed Packet ("Exception while decoding
   * CONNACK") instead of reporting the refusal. Seen against Moquette 0.16.
   */
  private static boolean unreadableConnAck(Throwable e) {
    return e instanceof Mqtt5DisconnectException d
        && d.getMqttMessage().getReasonCode() == Mqtt5DisconnectReasonCode.MALFORMED_PACKET
        && d.getMqttMessage()
            .getReasonString()
            .map(r -> r.toString().contains("CONNACK"))
            .orElse(false);
  }

  private void scheduleRetry() {
    if (closed) {
      return;
    }
    Duration d =
        settings
            .backoff()
            .delay(failures.getAndIncrement(), ThreadLocalRandom.current()::nextDouble);
    LOG.log(System.Logger.Level.INFO, "{0}; next attempt in {1} ms", lastError, d.toMillis());
    scheduler.schedule(this::attempt, d.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void connected5(int gen, Mqtt5ConnAck ack) {
    int max = ack.getRestrictions().getMaximumPacketSize();
    brokerMaxPacket = max <= 0 ? Integer.MAX_VALUE : max;
    afterConnect(gen, ack.isSessionPresent(), ack.getRestrictions().getReceiveMaximum());
  }

  private void connected3(int gen, Mqtt3ConnAck ack) {
    brokerMaxPacket = Integer.MAX_VALUE;
    afterConnect(gen, ack.isSessionPresent(), 0);
  }

  private void afterConnect(int gen, boolean sessionPresent, int brokerReceiveMax) {
    if (closed || gen != generation.get()) {
      disconnectQuietly();
      return;
    }
    lastError = "connected";
    subscribingGen = gen;
    InflightWindow w =
        new InflightWindow(InflightWindow.size(settings.inflightWindow(), brokerReceiveMax));
    window = w;
    boolean first = connects.getAndIncrement() == 0;
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (Sub s : subs) {
      acks.add(sendSubscribe(s.filter(), s.qos()));
    }
    MqttVersion v = version;
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new))
        .whenComplete(
            (ok, err) -> {
              if (err != null) {
                LOG.log(
                    System.Logger.Level.WARNING, "A subscription was refused: {0}", err.toString());
              }
              worker.execute(
                  () -> {
                    if (closed || gen != generation.get() || subscribingGen != gen) {
                      // Lost before the subscriptions were acknowledged: onDisconnected has
                      // scheduled the next attempt, which subscribes again.
                      return;
                    }
                    subscribingGen = -1;
                    // Backoff starts over only once the connection is usable: a broker that
                    // drops every connection while subscribing is retried ever more slowly.
                    failures.set(0);
                    ready = true;
                    Connected c = new Connected(v, first, sessionPresent, w.size());
                    for (Consumer<Connected> h : connectedHooks) {
                      try {
                        h.accept(c);
                      } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "An on-connected hook failed", e);
                      }
                    }
                  });
            });
  }

  private void onDisconnected(MqttClientDisconnectedContext ctx) {
    ctx.getReconnector().reconnect(false);
    boolean wasReady = ready;
    ready = false;
    // Between CONNACK and the last SUBACK the connect attempt has succeeded (connectFailed will
    // not run) but the connection is not ready yet: a loss then needs a retry of its own, or the
    // connection stays down for good (seen: a controller replica whose subscription brought a
    // flood of retained messages that the broker sent past our Receive Maximum).
    boolean wasSubscribing = subscribingGen == generation.get();
    subscribingGen = -1;
    if (closed || ctx.getSource() == MqttDisconnectSource.USER) {
      return;
    }
    if (wasSubscribing && !wasReady) {
      lastError = "connection lost before the subscriptions were acknowledged: " + ctx.getCause();
      int gen = generation.get();
      scheduler.execute(
          () -> {
            if (gen == generation.get()) {
              scheduleRetry();
            }
          });
      return;
    }
    if (wasReady) {
      String why = String.valueOf(ctx.getCause());
      lastError = "connection lost: " + why;
      worker.execute(
          () -> {
            for (Consumer<String> h : disconnectedHooks) {
              try {
                h.accept(why);
              } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "An on-disconnected hook failed", e);
              }
            }
          });
      int gen = generation.get();
      scheduler.execute(
          () -> {
            if (gen == generation.get()) {
              scheduleRetry();
            }
          });
    }
    // A failed connect attempt is retried by connectFailed (its future fails too).
  }

  /**
   * Where the client calls {@link #enqueue}: on its network thread, directly. Without an executor
   * the client first moves every received publish to its application scheduler, one thread hop
   * before ours to the worker; enqueue only admits and hands over, so it may run there.
   */
  private static final java.util.concurrent.Executor ON_NETWORK_THREAD = Runnable::run;

  private void enqueue(int gen, Message m) {
    if (gen != generation.get() || closed) {
      return;
    }
    int size = m.payloadSize();
    if (!inbound.tryAdmit(size)) {
      long n = inbound.dropped();
      if (Long.bitCount(n) == 1) {
        LOG.log(
            System.Logger.Level.WARNING,
            "Dropped a message from {0}: {1} bytes already wait for the handlers, the bound is {2}"
                + " ({3} dropped so far). Raise inboundQueueBytes or slow the senders.",
            m.topic(),
            inbound.queuedBytes(),
            settings.inboundQueueBytes(),
            n);
      }
      return;
    }
    worker.execute(
        () -> {
          try {
            dispatch(m);
          } finally {
            inbound.release(size);
          }
        });
  }

  private void dispatch(Message m) {
    for (Sub s : subs) {
      if (Topics.matches(s.filter(), m.topic())) {
        try {
          s.handler().accept(m);
        } catch (RuntimeException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "Handler for " + s.filter() + " failed on " + m.topic(),
              e);
        }
      }
    }
  }

  private static Message from5(Mqtt5Publish p) {
    List<Map.Entry<String, String>> props = new ArrayList<>();
    for (Mqtt5UserProperty u : p.getUserProperties().asList()) {
      props.add(Map.entry(u.getName().toString(), u.getValue().toString()));
    }
    if (p.getResponseTopic().isPresent() || p.getCorrelationData().isPresent()) {
      // Requests and replies: small payloads, copied as the constructor does.
      return new Message(
          p.getTopic().toString(),
          p.getPayloadAsBytes(),
          p.getQos().getCode(),
          p.isRetain(),
          props,
          p.getResponseTopic().map(Object::toString),
          p.getCorrelationData()
              .map(
                  b -> {
                    byte[] a = new byte[b.remaining()];
                    b.duplicate().get(a);
                    return a;
                  }),
          p.getContentType().map(Object::toString),
          p.getMessageExpiryInterval().isPresent()
              ? Optional.of(p.getMessageExpiryInterval().getAsLong())
              : Optional.empty());
    }
    // Everything else (update chunks above all) keeps the buffer the client decoded the payload
    // into, without a copy: the client allocates it for this publish alone and hands out only
    // read-only views of it.
    Message m =
        Message.wrap(p.getTopic().toString(), payload(p), p.getQos().getCode(), p.isRetain());
    if (!props.isEmpty()) {
      m = m.withUserProperties(props);
    }
    if (p.getContentType().isPresent()) {
      m = m.withContentType(p.getContentType().get().toString());
    }
    if (p.getMessageExpiryInterval().isPresent()) {
      m = m.withExpirySeconds(p.getMessageExpiryInterval().getAsLong());
    }
    return m;
  }

  private static java.nio.ByteBuffer payload(Mqtt5Publish p) {
    return p.getPayload().orElse(java.nio.ByteBuffer.allocate(0));
  }

  private static Message from3(Mqtt3Publish p) {
    return Message.wrap(
        p.getTopic().toString(),
        p.getPayload().orElse(java.nio.ByteBuffer.allocate(0)),
        p.getQos().getCode(),
        p.isRetain());
  }

  @Override
  public CompletableFuture<Void> publish(Message m) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    InflightWindow w = window;
    if (!isConnected() || w == null) {
      return fail(done, "Not connected to " + settings.serverUri() + " (" + lastError + ")", null);
    }
    boolean counted = m.qos() > 0;
    if (counted) {
      try {
        if (!w.acquire(settings.publishTimeout().toMillis())) {
          return fail(
              done,
              "The in-flight window of "
                  + w.size()
                  + " publishes stayed full for "
                  + settings.publishTimeout().toMillis()
                  + " ms; the broker is not acknowledging. Publish to "
                  + m.topic()
                  + " not sent",
              null);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail(done, "Interrupted while waiting for the in-flight window", e);
      }
    }
    CompletableFuture<?> sent;
    try {
      Mqtt5AsyncClient c5 = v5;
      Mqtt3AsyncClient c3 = v3;
      if (c5 != null) {
        Mqtt5PublishBuilder.Send.Complete<CompletableFuture<Mqtt5PublishResult>> b =
            c5.publishWith()
                .topic(m.topic())
                .payload(m.payloadBuffer())
                .qos(qos(m.qos()))
                .retain(m.retain());
        if (!m.userProperties().isEmpty()) {
          Mqtt5UserPropertiesBuilder ub = Mqtt5UserProperties.builder();
          m.userProperties().forEach(e -> ub.add(e.getKey(), e.getValue()));
          b = b.userProperties(ub.build());
        }
        if (m.responseTopic().isPresent()) {
          b = b.responseTopic(m.responseTopic().get());
        }
        if (m.correlationData().isPresent()) {
          b = b.correlationData(m.correlationData().get());
        }
        if (m.contentType().isPresent()) {
          b = b.contentType(m.contentType().get());
        }
        if (m.messageExpirySeconds().isPresent()) {
          b = b.messageExpiryInterval(m.messageExpirySeconds().get());
        }
        sent =
            b.send()
                .thenAccept(
                    r -> {
                      if (r.getError().isPresent()) {
                        throw new java.util.concurrent.CompletionException(r.getError().get());
                      }
                    });
      } else if (c3 != null) {
        sent =
            c3.publishWith()
                .topic(m.topic())
                .payload(m.payloadBuffer())
                .qos(qos(m.qos()))
                .retain(m.retain())
                .send();
      } else {
        throw new IllegalStateException("no client");
      }
    } catch (RuntimeException e) {
      if (counted) {
        w.release();
      }
      return fail(done, "Publishing to " + m.topic() + " failed: " + e.getMessage(), e);
    }
    sent.whenComplete(
        (r, e) -> {
          if (counted) {
            w.release();
          }
          if (e == null) {
            done.complete(null);
          } else {
            fail(done, "Publishing to " + m.topic() + " failed: " + unwrap(e), unwrap(e));
          }
        });
    return done;
  }

  private CompletableFuture<Void> fail(CompletableFuture<Void> f, String why, Throwable cause) {
    if (f.completeExceptionally(new MqttTransportException(why, cause))) {
      publishFailures.incrementAndGet();
    }
    return f;
  }

  @Override
  public CompletableFuture<Void> subscribe(String filter, int qos, Consumer<Message> handler) {
    Topics.requireFilter(filter);
    qos(qos);
    subs.add(new Sub(filter, qos, java.util.Objects.requireNonNull(handler, "handler")));
    if (!isConnected()) {
      return CompletableFuture.completedFuture(null);
    }
    return sendSubscribe(filter, qos);
  }

  private CompletableFuture<Void> sendSubscribe(String filter, int qos) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Mqtt5AsyncClient c5 = v5;
    Mqtt3AsyncClient c3 = v3;
    CompletableFuture<Boolean> refused;
    if (c5 != null) {
      refused =
          c5.subscribeWith()
              .topicFilter(filter)
              .qos(qos(qos))
              .send()
              .thenApply((Mqtt5SubAck a) -> a.getReasonCodes().getFirst().isError());
    } else if (c3 != null) {
      refused =
          c3.subscribeWith()
              .topicFilter(filter)
              .qos(qos(qos))
              .send()
              .thenApply(a -> a.getReturnCodes().getFirst().isError());
    } else {
      return CompletableFuture.completedFuture(null);
    }
    refused.whenComplete(
        (bad, e) -> {
          if (e != null) {
            done.completeExceptionally(
                new MqttTransportException(
                    "Subscribing to " + filter + " failed: " + unwrap(e), unwrap(e)));
          } else if (bad) {
            done.completeExceptionally(
                new MqttTransportException(
                    "The broker refused the subscription to "
                        + filter
                        + ". Check its ACL for client "
                        + settings.clientId()
                        + ".",
                    null));
          } else {
            done.complete(null);
          }
        });
    return done;
  }

  @Override
  public void onConnected(Consumer<Connected> hook) {
    connectedHooks.add(java.util.Objects.requireNonNull(hook, "hook"));
  }

  @Override
  public void onDisconnected(Consumer<String> hook) {
    disconnectedHooks.add(java.util.Objects.requireNonNull(hook, "hook"));
  }

  @Override
  public boolean isConnected() {
    Mqtt5AsyncClient c5 = v5;
    Mqtt3AsyncClient c3 = v3;
    return (c5 != null && c5.getState().isConnected())
        || (c3 != null && c3.getState().isConnected());
  }

  @Override
  public boolean awaitConnected(Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (!(ready && isConnected())) {
      if (System.nanoTime() > until) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }

  @Override
  public MqttVersion version() {
    return connects.get() == 0 ? MqttVersion.AUTO : version;
  }

  @Override
  public int brokerMaxPacketSize() {
    return brokerMaxPacket;
  }

  @Override
  public Stats stats() {
    InflightWindow w = window;
    return new Stats(
        connects.get(),
        w == null ? 0 : w.inUse(),
        worker.getQueue().size(),
        publishFailures.get(),
        inbound.dropped());
  }

  @Override
  public String lastError() {
    return lastError;
  }

  private void disconnectQuietly() {
    try {
      Mqtt5AsyncClient c5 = v5;
      Mqtt3AsyncClient c3 = v3;
      if (c5 != null) {
        c5.disconnect().get(3, TimeUnit.SECONDS);
      } else if (c3 != null) {
        c3.disconnect().get(3, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // not connected: nothing to say goodbye to
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    generation.incrementAndGet();
    disconnectQuietly();
    scheduler.shutdownNow();
    worker.shutdown();
  }

  private static MqttQos qos(int qos) {
    MqttQos q = MqttQos.fromCode(qos);
    if (q == null) {
      throw new IllegalArgumentException("MQTT QoS must be 0, 1 or 2: got " + qos);
    }
    return q;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
