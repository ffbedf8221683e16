package io.edgeslm.agent.internal.update;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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

/**
 * {@link UpdateLink} over its own Paho v5 connection, for tests only: an MQTT client we did not
 * build the agent's transport on, so tests that watch update traffic through it (results, progress,
 * the journal) prove the wire contract independently of the shared MQTT layer (ADR 0023). Designed
 * around Paho's known defects (no resubscribe after reconnect, no retry of a failed first connect,
 * deadlocks when publishing from the callback, "too many publishes in progress"): subscriptions are
 * renewed after every connect on our own thread, the first connect is retried with backoff,
 * handlers run on one ordered worker thread, and at most {@value #WINDOW} QoS 1 publishes are
 * unacknowledged.
 *
 * <p>Slow for chunks: Paho 1.2.5 decodes every received PUBLISH through a stream that reads one
 * byte per call, twice (ADR 0021); the update transfer benchmark keeps it as its {@code
 * -Dbench.link=paho} baseline.
 */
public final class PahoUpdateLink implements UpdateLink {

  static final int WINDOW = 16;

  private record Sub(String filter, int qos, Consumer<Message> handler) {}

  private final MqttAsyncClient client;
  private final List<Sub> subs = new CopyOnWriteArrayList<>();
  private final List<Runnable> connectActions = new CopyOnWriteArrayList<>();
  private final ExecutorService inbound =
      Executors.newSingleThreadExecutor(r -> thread(r, "update-inbound"));
  private final ExecutorService control =
      Executors.newSingleThreadExecutor(r -> thread(r, "update-connect"));
  private final Semaphore window = new Semaphore(WINDOW);
  private volatile long maxPacket = Long.MAX_VALUE;
  private volatile boolean closed;

  /**
   * What the link needs beyond the URI and client id to reach a broker that authenticates: the
   * agent's TLS socket factory (client certificate, broker CA) and MQTT credentials.
   */
  public record Options(
      Optional<SocketFactory> socketFactory, Optional<String> username, Optional<String> password) {

    public static final Options NONE =
        new Options(Optional.empty(), Optional.empty(), Optional.empty());

    public Options {
      Objects.requireNonNull(socketFactory, "socketFactory");
      Objects.requireNonNull(username, "username");
      Objects.requireNonNull(password, "password");
    }
  }

  private final Options options;

  private PahoUpdateLink(MqttAsyncClient client, Options options) {
    this.client = client;
    this.options = options;
  }

  /** Creates the client and starts connecting in the background (retrying until {@link #close}). */
  public static PahoUpdateLink connect(String serverUri, String clientId) throws IOException {
    return connect(serverUri, clientId, Options.NONE);
  }

  /** As {@link #connect(String, String)}, with TLS and credentials. */
  public static PahoUpdateLink connect(String serverUri, String clientId, Options options)
      throws IOException {
    MqttAsyncClient c;
    try {
      c = new MqttAsyncClient(serverUri, clientId, new MemoryPersistence());
    } catch (MqttException e) {
      throw new IOException(
          "Cannot create an MQTT client for '" + serverUri + "': " + e + ". Check the URI.", e);
    }
    PahoUpdateLink link = new PahoUpdateLink(c, Objects.requireNonNull(options, "options"));
    c.setCallback(link.new Callback());
    link.control.execute(link::connectLoop);
    return link;
  }

  private void connectLoop() {
    long backoff = 200;
    while (!closed && !client.isConnected()) {
      MqttConnectionOptions o = new MqttConnectionOptions();
      o.setCleanStart(true);
      o.setAutomaticReconnect(true);
      o.setAutomaticReconnectDelay(1, 10);
      o.setReceiveMaximum(1000);
      o.setConnectionTimeout(10);
      options.username().ifPresent(o::setUserName);
      options.password().ifPresent(p -> o.setPassword(p.getBytes(StandardCharsets.UTF_8)));
      options.socketFactory().ifPresent(o::setSocketFactory);
      try {
        IMqttToken t = client.connect(o);
        t.waitForCompletion(15_000);
        readMaxPacket(t);
        afterConnect();
        return;
      } catch (MqttException e) {
        sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  private void readMaxPacket(IMqttToken t) {
    MqttProperties p = t.getResponseProperties();
    Long max = p == null ? null : p.getMaximumPacketSize();
    maxPacket = max == null || max <= 0 ? Long.MAX_VALUE : max;
  }

  private void afterConnect() {
    for (Sub s : subs) {
      try {
        client.subscribe(new MqttSubscription(s.filter(), s.qos())).waitForCompletion(10_000);
      } catch (MqttException e) {
        // The next reconnect subscribes again.
      }
    }
    for (Runnable r : connectActions) {
      inbound.execute(r);
    }
  }

  @Override
  public void publish(String topic, byte[] payload, int qos, boolean retained) throws IOException {
    if (!client.isConnected()) {
      throw new IOException("Not connected to the broker; the update continues after reconnect.");
    }
    try {
      if (qos > 0 && !window.tryAcquire(10, TimeUnit.SECONDS)) {
        throw new IOException("The broker acknowledged nothing for 10 s; publish to " + topic);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Interrupted while publishing to " + topic, e);
    }
    MqttMessage m = new MqttMessage(payload, qos, retained, new MqttProperties());
    try {
      if (qos == 0) {
        client.publish(topic, m);
        return;
      }
      client.publish(
          topic,
          m,
          null,
          new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken t) {
              window.release();
            }

            @Override
            public void onFailure(IMqttToken t, Throwable e) {
              window.release();
            }
          });
    } catch (MqttException e) {
      if (qos > 0) {
        window.release();
      }
      throw new IOException("Publishing to " + topic + " failed: " + e, e);
    }
  }

  @Override
  public void subscribe(String filter, int qos, Consumer<Message> handler) throws IOException {
    subs.add(new Sub(filter, qos, handler));
    if (client.isConnected()) {
      try {
        client.subscribe(new MqttSubscription(filter, qos)).waitForCompletion(10_000);
      } catch (MqttException e) {
        throw new IOException("Subscribing to " + filter + " failed: " + e, e);
      }
    }
  }

  @Override
  public long maxPacketSize() {
    return maxPacket;
  }

  @Override
  public boolean isConnected() {
    return client.isConnected();
  }

  /** Waits up to {@code millis} for the first connection. */
  public boolean awaitConnected(long millis) {
    long until = System.nanoTime() + millis * 1_000_000;
    while (!client.isConnected() && System.nanoTime() < until) {
      sleep(20);
    }
    return client.isConnected();
  }

  @Override
  public void onConnected(Runnable action) {
    connectActions.add(action);
  }

  @Override
  public void close() {
    closed = true;
    control.shutdownNow();
    inbound.shutdownNow();
    try {
      if (client.isConnected()) {
        client.disconnect().waitForCompletion(3_000);
      }
    } catch (MqttException e) {
      // closing anyway
    }
    try {
      client.close(true);
    } catch (MqttException e) {
      // already closed
    }
  }

  private static boolean matches(String filter, String topic) {
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

  private final class Callback implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse response) {}

    @Override
    public void mqttErrorOccurred(MqttException exception) {}

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      Map<String, String> props = new LinkedHashMap<>();
      MqttProperties p = message.getProperties();
      if (p != null && p.getUserProperties() != null) {
        for (UserProperty u : p.getUserProperties()) {
          props.put(u.getKey(), u.getValue());
        }
      }
      Message m = new Message(topic, message.getPayload(), props);
      for (Sub s : subs) {
        if (matches(s.filter(), topic)) {
          inbound.execute(() -> s.handler().accept(m));
        }
      }
    }

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String serverUri) {
      if (reconnect) {
        control.execute(PahoUpdateLink.this::afterConnect);
      }
    }

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }
}
