package io.edgeslm.testkit;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.SocketFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/** A Paho v5 client for harness tests: records received messages and disconnects. */
final class PahoClient implements AutoCloseable {
  record Received(String topic, String payload, boolean retained) {}

  final MqttClient client;
  final BlockingQueue<Received> messages = new LinkedBlockingQueue<>();
  final CountDownLatch disconnected = new CountDownLatch(1);
  final IMqttToken connectToken;

  PahoClient(MqttBroker broker) throws MqttException {
    this(broker, null);
  }

  /** Connects, over TLS with {@code tls} as socket factory when it is not null. */
  PahoClient(MqttBroker broker, SocketFactory tls) throws MqttException {
    client = new MqttClient(broker.url(), "kit-" + UUID.randomUUID(), new MemoryPersistence());
    client.setCallback(
        new MqttCallback() {
          @Override
          public void disconnected(MqttDisconnectResponse response) {
            disconnected.countDown();
          }

          @Override
          public void mqttErrorOccurred(MqttException exception) {}

          @Override
          public void messageArrived(String topic, MqttMessage message) {
            messages.add(
                new Received(
                    topic,
                    new String(message.getPayload(), StandardCharsets.UTF_8),
                    message.isRetained()));
          }

          @Override
          public void deliveryComplete(IMqttToken token) {}

          @Override
          public void connectComplete(boolean reconnect, String serverURI) {}

          @Override
          public void authPacketArrived(int reasonCode, MqttProperties properties) {}
        });
    MqttConnectionOptions options = new MqttConnectionOptions();
    options.setCleanStart(true);
    options.setConnectionTimeout(10);
    if (tls != null) {
      options.setSocketFactory(tls);
    }
    connectToken = client.connectWithResult(options);
  }

  void subscribe(String filter) throws MqttException {
    client.subscribe(filter, 1).waitForCompletion(10_000);
  }

  void publish(String topic, String payload, boolean retained) throws MqttException {
    client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, retained);
  }

  Received next() throws InterruptedException {
    return messages.poll(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        client.disconnect(2000);
      }
    } catch (MqttException ignored) {
      // the broker may already be gone
    }
    try {
      client.close(true);
    } catch (MqttException ignored) {
      // as above
    }
  }
}
