package io.edgeslm.fleet.internal.mqtt;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.jboss.logging.Logger;

/**
 * The controller's MQTT 5 connection over Eclipse Paho v5, with Paho's known defects designed out:
 * the transport connects and reconnects itself (Paho's automatic reconnect does not retry a failed
 * first connect), resubscribes every filter after each connect (Paho does not), never runs handlers
 * or publishes on Paho's callback thread (reported deadlocks), bounds its own in-flight publishes
 * (Paho error 32202) and uses clean sessions (persistent sessions grow Paho's memory).
 */
public final class MqttTransport implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(MqttTransport.class);

  /** Handles one received message; runs on the transport's worker pool. */
  @FunctionalInterface
  public interface Handler {
    void handle(String topic, MqttMessage message) throws Exception;
  }

  /**
   * Connection settings.
   *
   * @param serverUri {@code tcp://host:1883} or {@code ssl://host:8883}
   * @param clientId unique per replica
   * @param username optional
   * @param password optional
   * @param workers handler threads
   * @param inboundQueue messages waiting for a handler before Paho's thread is made to wait
   * @param maxInflight publishes awaiting their acknowledgement
   */
  public record Settings(
      String serverUri,
      String clientId,
      String username,
      String password,
      int workers,
      int inboundQueue,
      int maxInflight) {}

  /**
   * A registered filter. {@code lane} is null for the shared worker pool (any order), or the one
   * thread that runs this filter's messages in arrival order.
   */
  private record Subscription(String filter, int qos, Handler handler, ThreadPoolExecutor lane) {}

  private final Settings settings;
  private final MqttAsyncClient client;
  private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
  private final ThreadPoolExecutor workers;
  private final ScheduledExecutorService control;
  private final Semaphore inflight;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean connecting = new AtomicBoolean();
  private final AtomicLong connects = new AtomicLong();
  private final AtomicLong handlerFailures = new AtomicLong();
  private volatile String lastError = "not connected yet";

  public MqttTransport(Settings settings) throws MqttException {
    this.settings = settings;
    this.client =
        new MqttAsyncClient(settings.serverUri(), settings.clientId(), new MemoryPersistence());
    this.workers =
        new ThreadPoolExecutor(
            settings.workers(),
            settings.workers(),
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(settings.inboundQueue()),
            r -> {
              Thread t = new Thread(r, "fleet-mqtt-worker");
              t.setDaemon(true);
              return t;
            },
            // A full queue makes Paho's thread wait: back-pressure to the broker instead of loss.
            new ThreadPoolExecutor.CallerRunsPolicy());
    this.control =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "fleet-mqtt-control");
              t.setDaemon(true);
              return t;
            });
    this.inflight = new Semaphore(settings.maxInflight());
    client.setCallback(new Callback());
  }

  /**
   * Registers a subscription; active now if connected, and after every reconnect. Its messages run
   * on the shared worker pool, so two of them may be handled in either order.
   */
  public void subscribe(String filter, int qos, Handler handler) {
    register(new Subscription(filter, qos, handler, null));
  }

  /**
   * As {@link #subscribe}, but the filter's messages are handled one at a time, in the order the
   * broker delivered them (MQTT keeps the order of one publisher's messages on a topic, MQTT 5
   * section 4.6), on a thread of their own. When {@code inboundQueue} messages wait, Paho's thread
   * waits too: back-pressure to the broker, never a message handled out of turn.
   */
  public void subscribeOrdered(String filter, int qos, Handler handler) {
    ThreadPoolExecutor lane =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(settings.inboundQueue()),
            r -> {
              Thread t = new Thread(r, "fleet-mqtt-ordered");
              t.setDaemon(true);
              return t;
            },
            (r, executor) -> {
              try {
                if (!executor.isShutdown()) {
                  executor.getQueue().put(r);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    register(new Subscription(filter, qos, handler, lane));
  }

  private void register(Subscription s) {
    subscriptions.add(s);
    if (client.isConnected()) {
      control.execute(() -> subscribeAll(List.of(s)));
    }
  }

  /** Starts connecting in the background; retries with backoff until connected or closed. */
  public void start() {
    control.execute(() -> connect(Duration.ofMillis(500)));
  }

  /** Blocks until connected or {@code timeout} passed; returns whether connected. */
  public boolean awaitConnected(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!client.isConnected() && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    return client.isConnected();
  }

  public boolean isConnected() {
    return client.isConnected();
  }

  public String lastError() {
    return lastError;
  }

  public long connectCount() {
    return connects.get();
  }

  public long handlerFailures() {
    return handlerFailures.get();
  }

  /** Messages waiting for a handler thread. */
  public int inboundDepth() {
    return workers.getQueue().size();
  }

  private void connect(Duration backoff) {
    if (closed.get() || client.isConnected() || !connecting.compareAndSet(false, true)) {
      return;
    }
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(true);
    o.setSessionExpiryInterval(0L);
    o.setAutomaticReconnect(false);
    o.setKeepAliveInterval(30);
    o.setConnectionTimeout(10);
    o.setReceiveMaximum(Math.max(1, Math.min(65535, settings.inboundQueue())));
    if (settings.username() != null) {
      o.setUserName(settings.username());
    }
    if (settings.password() != null) {
      o.setPassword(settings.password().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    try {
      client.connect(
          o,
          null,
          new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              connecting.set(false);
              connects.incrementAndGet();
              lastError = "";
              LOG.infof("connected to %s as %s", settings.serverUri(), settings.clientId());
              control.execute(() -> subscribeAll(subscriptions));
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
              connecting.set(false);
              retry(backoff, e);
            }
          });
    } catch (MqttException e) {
      connecting.set(false);
      retry(backoff, e);
    }
  }

  private void retry(Duration backoff, Throwable e) {
    lastError = "cannot connect to " + settings.serverUri() + ": " + e.getMessage();
    if (closed.get()) {
      return;
    }
    LOG.warnf("%s; retrying in %d ms", lastError, backoff.toMillis());
    Duration next =
        backoff.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0
            ? Duration.ofSeconds(30)
            : backoff.multipliedBy(2);
    try {
      control.schedule(() -> connect(next), backoff.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException ignored) {
      // closed meanwhile
    }
  }

  private void subscribeAll(List<Subscription> subs) {
    // One at a time and off Paho's threads: subscribing many filters inside connectComplete is a
    // reported Paho deadlock.
    for (Subscription s : subs) {
      try {
        client.subscribe(s.filter(), s.qos(), null, null).waitForCompletion(10_000);
      } catch (MqttException e) {
        lastError = "cannot subscribe to " + s.filter() + ": " + e.getMessage();
        LOG.warn(lastError);
      }
    }
  }

  /**
   * Publishes with a bounded in-flight window; waits for a free slot up to 30 s.
   *
   * @param userProperties MQTT 5 user properties, may be empty
   * @param contentType MQTT 5 content type, or null
   */
  public CompletableFuture<Void> publish(
      String topic,
      byte[] payload,
      int qos,
      boolean retained,
      Map<String, String> userProperties,
      String contentType,
      Long messageExpirySeconds) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      if (!inflight.tryAcquire(30, TimeUnit.SECONDS)) {
        done.completeExceptionally(
            new IllegalStateException(
                "MQTT publish window full for 30 s (" + settings.maxInflight() + " in flight)"));
        return done;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done.completeExceptionally(e);
      return done;
    }
    MqttMessage m = new MqttMessage(payload);
    m.setQos(qos);
    m.setRetained(retained);
    MqttProperties p = new MqttProperties();
    if (userProperties != null && !userProperties.isEmpty()) {
      p.setUserProperties(
          userProperties.entrySet().stream()
              .map(e -> new UserProperty(e.getKey(), e.getValue()))
              .toList());
    }
    if (contentType != null) {
      p.setContentType(contentType);
    }
    if (messageExpirySeconds != null) {
      p.setMessageExpiryInterval(messageExpirySeconds);
    }
    m.setProperties(p);
    try {
      client.publish(
          topic,
          m,
          null,
          new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              inflight.release();
              done.complete(null);
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
              inflight.release();
              done.completeExceptionally(e);
            }
          });
    } catch (MqttException | RuntimeException e) {
      inflight.release();
      done.completeExceptionally(e);
    }
    return done;
  }

  /**
   * Publishes an MQTT 5 request: Response Topic, Correlation Data and Message Expiry set, so the
   * responder answers on {@code responseTopic} and a late node does not answer a stale question.
   */
  public CompletableFuture<Void> publishRequest(
      String topic, byte[] json, String responseTopic, byte[] correlation, long expirySeconds) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    MqttMessage m = new MqttMessage(json);
    m.setQos(1);
    MqttProperties p = new MqttProperties();
    p.setResponseTopic(responseTopic);
    p.setCorrelationData(correlation);
    p.setMessageExpiryInterval(expirySeconds);
    p.setContentType("application/json");
    m.setProperties(p);
    try {
      client.publish(
          topic,
          m,
          null,
          new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              done.complete(null);
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
              done.completeExceptionally(e);
            }
          });
    } catch (MqttException | RuntimeException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  /** Publishes JSON. */
  public CompletableFuture<Void> publishJson(String topic, byte[] json, int qos, boolean retained) {
    return publish(topic, json, qos, retained, Map.of(), "application/json", null);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      if (client.isConnected()) {
        client.disconnect(5_000).waitForCompletion(5_000);
      }
    } catch (MqttException e) {
      LOG.debugf("disconnect: %s", e.getMessage());
    }
    try {
      client.close(true);
    } catch (MqttException e) {
      LOG.debugf("close: %s", e.getMessage());
    }
    control.shutdownNow();
    for (Subscription s : subscriptions) {
      if (s.lane() != null) {
        s.lane().shutdown();
      }
    }
    workers.shutdown();
    try {
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final class Callback implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse response) {
      lastError = "disconnected: " + response.getReasonString();
      if (!closed.get()) {
        LOG.warn(lastError + "; reconnecting");
        control.execute(() -> connect(Duration.ofMillis(500)));
      }
    }

    @Override
    public void mqttErrorOccurred(MqttException e) {
      lastError = "MQTT error: " + e.getMessage();
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      for (Subscription s : subscriptions) {
        if (matches(s.filter(), topic)) {
          try {
            (s.lane() != null ? s.lane() : workers).execute(() -> run(s, topic, message));
          } catch (RejectedExecutionException e) {
            // shutting down
          }
          return;
        }
      }
    }

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {}

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }

  private void run(Subscription s, String topic, MqttMessage message) {
    try {
      s.handler().handle(topic, message);
    } catch (Exception | Error e) {
      handlerFailures.incrementAndGet();
      LOG.warnf(e, "handling a message on %s failed", topic);
    }
  }

  /** MQTT topic matching; a {@code $share/{group}/} prefix is ignored. */
  static boolean matches(String filter, String topic) {
    if (filter.startsWith("$share/")) {
      int slash = filter.indexOf('/', "$share/".length());
      filter = filter.substring(slash + 1);
    }
    String[] f = filter.split("/", -1);
    String[] t = topic.split("/", -1);
    for (int i = 0; i < f.length; i++) {
      if (f[i].equals("#")) {
        return true;
      }
      if (i >= t.length) {
        return false;
      }
      if (!f[i].equals("+") && !f[i].equals(t[i])) {
        return false;
      }
    }
    return f.length == t.length;
  }
}
