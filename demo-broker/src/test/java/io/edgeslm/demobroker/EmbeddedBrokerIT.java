package io.edgeslm.demobroker;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.agent.internal.mqtt.MqttTransport;
import io.edgeslm.agent.internal.mqtt.OutboundMessage;
import io.edgeslm.mqtt.Backoff;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The evidence behind ADR 0002: the embedded broker carries MQTT 5 request/response (response
 * topic, correlation data, message expiry, user properties) between real clients.
 */
class EmbeddedBrokerIT {

  private static HiveMqBroker broker;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    port = freePort();
    broker = HiveMqBroker.start("127.0.0.1", port);
  }

  @AfterAll
  static void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void requestResponse_mqtt5Properties_reachResponderAndComeBack() throws Exception {
    BlockingQueue<InboundMessage> seen = new LinkedBlockingQueue<>();
    try (MqttTransport responder =
        new MqttTransport(
            new MqttTransport.Settings(
                broker.url(),
                "responder",
                Optional.empty(),
                Optional.empty(),
                null,
                Duration.ofSeconds(30),
                Duration.ofSeconds(5),
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)),
                8,
                64,
                "t/status",
                "{\"state\":\"offline\"}".getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(10)))) {
      responder.subscribe(
          "t/ask",
          1,
          m -> {
            seen.add(m);
            responder.publish(
                OutboundMessage.json(m.responseTopic().orElseThrow(), "pong".getBytes(), 1, false)
                    .withCorrelationData(m.correlationData()));
          });
      // isConnected() turns true at CONNACK; the listener runs once t/ask is acknowledged.
      java.util.concurrent.CountDownLatch subscribed = new java.util.concurrent.CountDownLatch(1);
      responder.addListener(firstTime -> subscribed.countDown());
      responder.start();
      assertThat(subscribed.await(30, TimeUnit.SECONDS)).as("t/ask acknowledged").isTrue();

      MqttAsyncClient requester =
          new MqttAsyncClient(broker.url(), "requester", new MemoryPersistence());
      BlockingQueue<MqttMessage> replies = new LinkedBlockingQueue<>();
      requester.setCallback(new Collector(replies));
      requester.connect(new MqttConnectionOptions()).waitForCompletion(10_000);
      // Paho's subscribe(subscription, listener) overload throws IndexOutOfBounds in 1.2.5;
      // a client-wide callback is the reliable way to receive.
      requester
          .subscribe(new MqttSubscription[] {new MqttSubscription("t/reply/1", 1)})
          .waitForCompletion(10_000);
      MqttMessage ask = new MqttMessage("ping".getBytes(StandardCharsets.UTF_8));
      ask.setQos(1);
      MqttProperties props = new MqttProperties();
      props.setResponseTopic("t/reply/1");
      props.setCorrelationData(new byte[] {1, 2, 3, (byte) 0xff});
      props.setMessageExpiryInterval(60L);
      props.setUserProperties(
          List.of(new org.eclipse.paho.mqttv5.common.packet.UserProperty("k", "v")));
      ask.setProperties(props);
      requester.publish("t/ask", ask).waitForCompletion(10_000);

      InboundMessage question = seen.poll(30, TimeUnit.SECONDS);
      assertThat(question).isNotNull();
      assertThat(question.responseTopic()).contains("t/reply/1");
      assertThat(question.correlationData().orElseThrow()).containsExactly(1, 2, 3, 0xff);
      assertThat(question.messageExpirySeconds().orElseThrow()).isBetween(1L, 60L);
      assertThat(question.userProperties()).containsExactly(java.util.Map.entry("k", "v"));

      MqttMessage reply = replies.poll(30, TimeUnit.SECONDS);
      assertThat(reply).isNotNull();
      assertThat(new String(reply.getPayload(), StandardCharsets.UTF_8)).isEqualTo("pong");
      assertThat(reply.getProperties().getCorrelationData()).containsExactly(1, 2, 3, 0xff);
      requester.disconnect().waitForCompletion(5000);
      requester.close();
    }
  }

  /** Collects every received message. */
  record Collector(BlockingQueue<MqttMessage> into)
      implements org.eclipse.paho.mqttv5.client.MqttCallback {
    @Override
    public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse r) {}

    @Override
    public void mqttErrorOccurred(org.eclipse.paho.mqttv5.common.MqttException e) {}

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      into.add(message);
    }

    @Override
    public void deliveryComplete(org.eclipse.paho.mqttv5.client.IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String serverUri) {}

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }
}
