package io.edgeslm.deploy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import javax.net.SocketFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * An MQTT 5 client (Eclipse Paho v5) for the broker tests: records every message it receives, and
 * reports the broker's answers (SUBACK and PUBACK reason codes) instead of hiding them.
 */
final class TestClient implements AutoCloseable {
  /** MQTT 5 reason code "Not authorized" (MQTT 5.0, 2.4). */
  static final int NOT_AUTHORIZED = 0x87;

  /** Generous: the machine may be loaded; a wait ends as soon as its condition holds. */
  static final Duration WAIT = Duration.ofSeconds(30);

  record Received(String topic, String payload, MqttProperties properties) {}

  final String name;
  private final MqttAsyncClient client;
  private final BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
  private final List<Received> all = new CopyOnWriteArrayList<>();
  private final AtomicReference<String> disconnected = new AtomicReference<>();

  private TestClient(String name, MqttAsyncClient client) {
    this.name = name;
    this.client = client;
  }

  /**
   * Connects with TLS; throws what Paho throws when the broker refuses.
   *
   * @param clientId the client id to ask for (the broker replaces it with the certificate CN)
   */
  static TestClient connect(String url, String clientId, SocketFactory tls) throws MqttException {
    MqttAsyncClient c = new MqttAsyncClient(url, clientId, new MemoryPersistence());
    TestClient t = new TestClient(clientId, c);
    c.setCallback(t.new Callback());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(true);
    o.setAutomaticReconnect(false);
    o.setConnectionTimeout(30);
    o.setKeepAliveInterval(60);
    if (tls != null) {
      o.setSocketFactory(tls);
    }
    try {
      c.connect(o).waitForCompletion(WAIT.toMillis());
    } catch (MqttException e) {
      try {
        c.close(true);
      } catch (MqttException ignored) {
        // already failed
      }
      throw e;
    }
    return t;
  }

  /** Subscribes at QoS 1; returns the SUBACK reason code, or NOT_AUTHORIZED if Paho threw it. */
  int subscribe(String filter) throws MqttException {
    try {
      IMqttToken tok = client.subscribe(filter, 1, null, null);
      tok.waitForCompletion(WAIT.toMillis());
      return tok.getReasonCodes()[0];
    } catch (MqttException e) {
      if (e.getReasonCode() == NOT_AUTHORIZED || e.getReasonCode() == 0x80) {
        return NOT_AUTHORIZED;
      }
      throw e;
    }
  }

  /**
   * Publishes at QoS 1 and waits for the PUBACK: once this returns, the broker has routed (or
   * dropped) the message, so anything published afterwards reaches a subscriber after it.
   *
   * @return the PUBACK reason code (0 = success; 0x87 = not authorized)
   */
  int publish(String topic, String payload, boolean retained) throws MqttException {
    return publish(topic, payload, retained, null);
  }

  int publish(String topic, String payload, boolean retained, MqttProperties props)
      throws MqttException {
    MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    m.setRetained(retained);
    if (props != null) {
      m.setProperties(props);
    }
    try {
      IMqttToken delivery = client.publish(topic, m);
      delivery.waitForCompletion(WAIT.toMillis());
      int[] codes = delivery.getReasonCodes();
      return codes == null || codes.length == 0 ? 0 : codes[0];
    } catch (MqttException e) {
      if (e.getReasonCode() == NOT_AUTHORIZED) {
        return NOT_AUTHORIZED;
      }
      throw e;
    }
  }

  /** Waits for the first received message matching {@code p}; fails after {@link #WAIT}. */
  Received await(Predicate<Received> p, String what) throws InterruptedException {
    for (Received r : all) {
      if (p.test(r)) {
        return r;
      }
    }
    long end = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < end) {
      Received r = inbox.poll(200, TimeUnit.MILLISECONDS);
      if (r != null && p.test(r)) {
        return r;
      }
      if (disconnected.get() != null) {
        throw new AssertionError(
            name + " was disconnected (" + disconnected.get() + ") waiting for " + what);
      }
    }
    throw new AssertionError(
        name + " did not receive " + what + " within " + WAIT + "; got " + topics());
  }

  /** Waits until the broker closed this connection; fails after {@link #WAIT}. */
  void awaitDisconnected(String cause) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (connected()) {
      if (System.nanoTime() > end) {
        throw new AssertionError(name + " is still connected after " + cause + " (" + WAIT + ")");
      }
      Thread.sleep(50);
    }
  }

  Received awaitTopic(String topic) throws InterruptedException {
    return await(r -> r.topic().equals(topic), "a message on " + topic);
  }

  /** Every message received so far. */
  List<Received> received() {
    return new ArrayList<>(all);
  }

  List<String> topics() {
    return all.stream().map(r -> r.topic() + "=" + r.payload()).toList();
  }

  boolean connected() {
    return client.isConnected() && disconnected.get() == null;
  }

  String disconnectReason() {
    return disconnected.get();
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        client.disconnect(5_000).waitForCompletion(10_000);
      }
    } catch (MqttException ignored) {
      // closing anyway
    }
    try {
      client.close(true);
    } catch (MqttException ignored) {
      // nothing left to do
    }
  }

  private final class Callback implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse response) {
      disconnected.set(String.valueOf(response));
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
      disconnected.compareAndSet(null, "error: " + exception);
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      Received r =
          new Received(
              topic,
              new String(message.getPayload(), StandardCharsets.UTF_8),
              message.getProperties());
      all.add(r);
      inbox.add(r);
    }

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {}

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }
}
