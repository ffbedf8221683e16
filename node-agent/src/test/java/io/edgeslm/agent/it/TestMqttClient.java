package io.edgeslm.agent.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/**
 * A plain Paho v5 client for tests: collects every message per topic filter it subscribed to. It
 * uses a client-wide callback because Paho 1.2.5's per-subscription listener overload throws.
 */
final class TestMqttClient implements AutoCloseable {

  /** A received message. */
  record Received(
      String topic, byte[] payload, Optional<byte[]> correlation, Map<String, String> props) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  private final MqttAsyncClient client;
  private final Map<String, BlockingQueue<Received>> queues = new ConcurrentHashMap<>();
  private final BlockingQueue<Received> all = new LinkedBlockingQueue<>();

  private TestMqttClient(MqttAsyncClient client) {
    this.client = client;
  }

  static TestMqttClient connect(String uri) throws MqttException {
    return connect(uri, "test-" + UUID.randomUUID().toString().substring(0, 8), true);
  }

  /** With {@code cleanStart=false} the session (and its subscriptions) outlives disconnects. */
  static TestMqttClient connect(String uri, String clientId, boolean cleanStart)
      throws MqttException {
    return connect(uri, clientId, cleanStart, null);
  }

  /** Over TLS with {@code socketFactory} (may be null for plain TCP). */
  static TestMqttClient connect(
      String uri, String clientId, boolean cleanStart, javax.net.SocketFactory socketFactory)
      throws MqttException {
    MqttAsyncClient c = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
    TestMqttClient t = new TestMqttClient(c);
    c.setCallback(t.new Callback());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(cleanStart);
    o.setSessionExpiryInterval(cleanStart ? 0L : 3600L);
    o.setAutomaticReconnect(!cleanStart);
    o.setAutomaticReconnectDelay(1, 2);
    o.setConnectionTimeout(10);
    if (socketFactory != null) {
      o.setSocketFactory(socketFactory);
    }
    c.connect(o).waitForCompletion(15_000);
    return t;
  }

  boolean isConnected() {
    return client.isConnected();
  }

  void subscribe(String filter) throws MqttException {
    queues.putIfAbsent(filter, new LinkedBlockingQueue<>());
    client
        .subscribe(new MqttSubscription[] {new MqttSubscription(filter, 1)})
        .waitForCompletion(10_000);
  }

  void publish(String topic, byte[] payload) throws MqttException {
    MqttMessage m = new MqttMessage(payload);
    m.setQos(1);
    send(topic, m);
  }

  void publish(String topic, String payload) throws MqttException {
    publish(topic, payload.getBytes(StandardCharsets.UTF_8));
  }

  /** Publishes a question with MQTT 5 response topic, correlation data and optional expiry. */
  void ask(String topic, byte[] payload, String responseTopic, byte[] correlation, Long expiry)
      throws MqttException {
    MqttMessage m = new MqttMessage(payload);
    m.setQos(1);
    MqttProperties p = new MqttProperties();
    p.setResponseTopic(responseTopic);
    p.setCorrelationData(correlation);
    if (expiry != null) {
      p.setMessageExpiryInterval(expiry);
    }
    m.setProperties(p);
    send(topic, m);
  }

  /**
   * Publishes and waits for the acknowledgement. Paho v5 1.2.5 can refuse a publish with "Too many
   * publishes in progress" (32202) although this client waits for each acknowledgement before the
   * next publish (a known Paho defect, eclipse-paho/paho.mqtt.java#993; seen once in CI under
   * load). The refusal sends nothing, so trying again shortly after is safe; 30 s of refusals is a
   * failure.
   */
  private void send(String topic, MqttMessage m) throws MqttException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        client.publish(topic, m).waitForCompletion(10_000);
        return;
      } catch (MqttException e) {
        if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT
            || System.nanoTime() > until) {
          throw e;
        }
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new MqttException(ie);
      }
    }
  }

  /** The next message on {@code filter}, waiting up to {@code timeout}. */
  Received next(String filter, Duration timeout) throws InterruptedException {
    Received r = queues.get(filter).poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (r == null) {
      throw new AssertionError("No message on " + filter + " within " + timeout);
    }
    return r;
  }

  /** Every message received so far on {@code filter}, removed from the queue. */
  List<Received> drain(String filter) {
    List<Received> out = new ArrayList<>();
    queues.get(filter).drainTo(out);
    return out;
  }

  /**
   * Every message received so far on any subscription, the session's own included (those a broker
   * delivers on a resumed session before any {@link #subscribe}), removed from that record.
   */
  List<Received> drainAll() {
    List<Received> out = new ArrayList<>();
    all.drainTo(out);
    return out;
  }

  @Override
  public void close() throws MqttException {
    if (client.isConnected()) {
      client.disconnect().waitForCompletion(5000);
    }
    client.close();
  }

  private final class Callback implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse r) {}

    @Override
    public void mqttErrorOccurred(MqttException e) {}

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      Map<String, String> props = new ConcurrentHashMap<>();
      MqttProperties p = message.getProperties();
      if (p != null && p.getUserProperties() != null) {
        for (UserProperty up : p.getUserProperties()) {
          props.put(up.getKey(), up.getValue());
        }
      }
      Received r =
          new Received(
              topic,
              message.getPayload(),
              Optional.ofNullable(p == null ? null : p.getCorrelationData()),
              props);
      all.add(r);
      for (Map.Entry<String, BlockingQueue<Received>> e : queues.entrySet()) {
        if (org.eclipse.paho.mqttv5.common.util.MqttTopicValidator.isMatched(e.getKey(), topic)) {
          e.getValue().add(r);
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
}
