package io.edgeslm.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.testkit.MqttBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layer against a real Mosquitto, with Eclipse Paho as the independent peer. It lives in the
 * test kit's tests, not in the mqtt module's: the kit depends on the layer (its bundle server
 * publishes through it), so the layer's tests cannot depend on the kit's broker harness.
 */
class MqttConnectionIT {

  private static MqttBroker broker;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = MqttBroker.forTests();
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  private static String prefix(String name) {
    return "it/" + name + "/" + System.nanoTime();
  }

  @Test
  void pahoPublishes_layerReceivesUserPropertiesResponseTopicAndCorrelationData() throws Exception {
    String topic = prefix("from-paho") + "/q";
    BlockingQueue<Message> got = new ArrayBlockingQueue<>(4);
    try (MqttConnection c =
        MqttConnection.open(MqttSettings.of(broker.url(), "layer-rx-" + System.nanoTime()))) {
      c.subscribe(topic, 1, got::add);
      assertThat(c.awaitConnected(Duration.ofSeconds(20))).isTrue();
      MqttClient paho =
          new MqttClient(broker.url(), "paho-tx-" + System.nanoTime(), new MemoryPersistence());
      paho.connect(new MqttConnectionOptions());
      MqttMessage m = new MqttMessage("hello".getBytes(StandardCharsets.UTF_8));
      m.setQos(1);
      MqttProperties p = new MqttProperties();
      p.setUserProperties(List.of(new UserProperty("k", "v1"), new UserProperty("k", "v2")));
      p.setResponseTopic(topic + "/reply");
      p.setCorrelationData(new byte[] {1, 2, 3});
      m.setProperties(p);
      paho.publish(topic, m);
      Message in = got.poll(20, TimeUnit.SECONDS);
      paho.disconnect();
      paho.close();
      assertThat(in).isNotNull();
      assertThat(new String(in.payload(), StandardCharsets.UTF_8)).isEqualTo("hello");
      assertThat(in.userProperties()).containsExactly(Map.entry("k", "v1"), Map.entry("k", "v2"));
      assertThat(in.responseTopic()).contains(topic + "/reply");
      assertThat(in.correlationData())
          .hasValueSatisfying(d -> assertThat(d).containsExactly(1, 2, 3));
      assertThat(c.version()).isEqualTo(MqttVersion.V5);
    }
  }

  @Test
  void layerPublishes_pahoReceivesUserPropertiesAndCorrelationData() throws Exception {
    String topic = prefix("to-paho") + "/a";
    BlockingQueue<MqttMessage> got = new ArrayBlockingQueue<>(4);
    MqttClient paho =
        new MqttClient(broker.url(), "paho-rx-" + System.nanoTime(), new MemoryPersistence());
    paho.connect(new MqttConnectionOptions());
    // Paho 1.2.5's MqttClient.subscribe(String, int, listener) recurses into itself until the stack
    // overflows; the array form works.
    paho.subscribe(
        new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
          new org.eclipse.paho.mqttv5.common.MqttSubscription(topic, 1)
        },
        new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(t, msg) -> got.add(msg)});
    try (MqttConnection c =
        MqttConnection.open(MqttSettings.of(broker.url(), "layer-tx-" + System.nanoTime()))) {
      assertThat(c.awaitConnected(Duration.ofSeconds(20))).isTrue();
      c.publish(
              Message.of(topic, "answer".getBytes(StandardCharsets.UTF_8), 1, false)
                  .withUserProperties(List.of(Map.entry("schema", "1")))
                  .withCorrelationData(new byte[] {9, 8}))
          .get(20, TimeUnit.SECONDS);
      MqttMessage in = got.poll(20, TimeUnit.SECONDS);
      assertThat(in).isNotNull();
      assertThat(in.getProperties().getUserProperties())
          .extracting(UserProperty::getKey, UserProperty::getValue)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("schema", "1"));
      assertThat(in.getProperties().getCorrelationData()).containsExactly(9, 8);
      // The layer keeps the client's form of a property list it sent before: the same list again
      // (now from that cache), then a mutable entry changed after its first send.
      var entry = new java.util.AbstractMap.SimpleEntry<>("schema", "2");
      for (List<Map.Entry<String, String>> props :
          List.of(List.of(Map.entry("schema", "1")), List.<Map.Entry<String, String>>of(entry))) {
        c.publish(
                Message.of(topic, "again".getBytes(StandardCharsets.UTF_8), 1, false)
                    .withUserProperties(props))
            .get(20, TimeUnit.SECONDS);
      }
      entry.setValue("3");
      c.publish(
              Message.of(topic, "changed".getBytes(StandardCharsets.UTF_8), 1, false)
                  .withUserProperties(List.of(entry)))
          .get(20, TimeUnit.SECONDS);
      for (String value : List.of("1", "2", "3")) {
        MqttMessage next = got.poll(20, TimeUnit.SECONDS);
        assertThat(next).isNotNull();
        assertThat(next.getProperties().getUserProperties())
            .extracting(UserProperty::getKey, UserProperty::getValue)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("schema", value));
      }
    } finally {
      paho.disconnect();
      paho.close();
    }
  }

  @Test
  void created_connectsOnlyOnStart_thenDeliversToASharedSubscriptionRegisteredBefore()
      throws Exception {
    String topic = prefix("create") + "/t";
    BlockingQueue<Message> got = new ArrayBlockingQueue<>(4);
    try (MqttConnection c =
        MqttConnection.create(MqttSettings.of(broker.url(), "layer-create-" + System.nanoTime()))) {
      // A shared subscription (MQTT 5 section 4.8.2), as the controller's replicas use: messages
      // arrive under the plain topic name and must still reach this handler.
      c.subscribe("$share/replicas/" + topic, 1, got::add);
      assertThat(c.awaitConnected(Duration.ofMillis(500))).as("not started yet").isFalse();
      assertThat(c.stats().connects()).isZero();
      c.start();
      c.start(); // idempotent
      assertThat(c.awaitConnected(Duration.ofSeconds(20))).as(c.lastError()).isTrue();
      c.publish(Message.of(topic, new byte[] {5}, 1, false)).get(20, TimeUnit.SECONDS);
      Message in = got.poll(20, TimeUnit.SECONDS);
      assertThat(in).isNotNull();
      assertThat(in.topic()).isEqualTo(topic);
      assertThat(in.payload()).containsExactly(5);
      assertThat(c.stats().connects()).isEqualTo(1);
    }
  }

  @Test
  void version311_publishesAndReceivesOverAnMqtt311Connection() throws Exception {
    String topic = prefix("v311") + "/t";
    BlockingQueue<Message> got = new ArrayBlockingQueue<>(8);
    BlockingQueue<MqttConnection.Connected> connects = new ArrayBlockingQueue<>(8);
    MqttSettings s =
        MqttSettings.builder(broker.url(), "layer-311-" + System.nanoTime())
            .version(MqttVersion.V3_1_1)
            .build();
    try (MqttConnection c = MqttConnection.open(s)) {
      c.onConnected(connects::add);
      c.subscribe(topic, 1, got::add);
      assertThat(c.awaitConnected(Duration.ofSeconds(20))).isTrue();
      c.publish(Message.of(topic, new byte[] {42}, 1, false)).get(20, TimeUnit.SECONDS);
      Message in = got.poll(20, TimeUnit.SECONDS);
      assertThat(in).isNotNull();
      assertThat(in.payload()).containsExactly(42);
      assertThat(c.version()).isEqualTo(MqttVersion.V3_1_1);
      assertThat(connects.poll(20, TimeUnit.SECONDS).firstTime()).isTrue();
    }
  }

  @Test
  void brokerRestart_reconnectsResubscribesThenRunsOnConnectedHooks() throws Exception {
    try (MqttBroker own = MqttBroker.privateMosquitto()) {
      String topic = prefix("restart") + "/t";
      BlockingQueue<Message> got = new ArrayBlockingQueue<>(8);
      BlockingQueue<MqttConnection.Connected> connects = new ArrayBlockingQueue<>(8);
      try (MqttConnection c =
          MqttConnection.open(MqttSettings.of(own.url(), "layer-restart-" + System.nanoTime()))) {
        c.onConnected(connects::add);
        c.subscribe(topic, 1, got::add);
        assertThat(connects.poll(20, TimeUnit.SECONDS).firstTime()).isTrue();
        own.restart();
        MqttConnection.Connected again = connects.poll(30, TimeUnit.SECONDS);
        assertThat(again).isNotNull();
        assertThat(again.firstTime()).isFalse();
        // The hook runs only after the subscription was renewed, so this publish must come back.
        c.publish(Message.of(topic, new byte[] {7}, 1, false)).get(20, TimeUnit.SECONDS);
        Message in = got.poll(20, TimeUnit.SECONDS);
        assertThat(in).isNotNull();
        assertThat(in.payload()).containsExactly(7);
        assertThat(c.stats().connects()).isEqualTo(2);
      }
    }
  }
}
