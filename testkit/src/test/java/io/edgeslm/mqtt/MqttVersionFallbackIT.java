package io.edgeslm.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.testkit.MqttBroker;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The layer's MQTT 5 → 3.1.1 fallback against a broker that speaks 3.1.1 only: Moquette 0.16 (it
 * gained MQTT 5 in 0.17), a real and independent broker implementation. Plant brokers vary, and a
 * node configured with {@code version = AUTO} must reach one that knows nothing of MQTT 5.
 *
 * <p>What such a broker does with an MQTT 5 CONNECT is its choice: MQTT 3.1.1 section 3.1.2.2 lets
 * it answer CONNACK return code 0x01 (unacceptable protocol version) and close, or close at once.
 * The layer must treat both as "try 3.1.1".
 */
class MqttVersionFallbackIT {

  private MqttBroker broker;

  private void startBroker() throws Exception {
    broker = MqttBroker.mqtt311Only();
  }

  @AfterEach
  void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  private String url() {
    return broker.url();
  }

  @Test
  void autoAgainstA311OnlyBroker_fallsBackAndPublishesAndReceives() throws Exception {
    startBroker();
    String topic = "it/fallback/" + System.nanoTime();
    BlockingQueue<Message> got = new ArrayBlockingQueue<>(4);
    BlockingQueue<MqttConnection.Connected> connects = new ArrayBlockingQueue<>(4);
    MqttSettings s =
        MqttSettings.builder(url(), "fallback-" + System.nanoTime())
            .version(MqttVersion.AUTO)
            .build();
    try (MqttConnection c = MqttConnection.open(s)) {
      c.onConnected(connects::add);
      c.subscribe(topic, 1, got::add);
      assertThat(c.awaitConnected(Duration.ofSeconds(30)))
          .as("connected (last error: %s)", c.lastError())
          .isTrue();
      assertThat(c.version()).isEqualTo(MqttVersion.V3_1_1);
      assertThat(connects.poll(20, TimeUnit.SECONDS).firstTime()).isTrue();

      c.publish(Message.of(topic, new byte[] {7, 8, 9}, 1, false)).get(20, TimeUnit.SECONDS);
      Message in = got.poll(20, TimeUnit.SECONDS);
      assertThat(in).as("own QoS 1 message back through the 3.1.1 broker").isNotNull();
      assertThat(in.payload()).containsExactly(7, 8, 9);
      assertThat(in.qos()).isEqualTo(1);
    }
  }

  @Test
  void autoAfterFallback_brokerRestart_reconnectsOn311AndResubscribes() throws Exception {
    startBroker();
    String topic = "it/fallback-restart/" + System.nanoTime();
    BlockingQueue<Message> got = new ArrayBlockingQueue<>(4);
    BlockingQueue<MqttConnection.Connected> connects = new ArrayBlockingQueue<>(4);
    MqttSettings s =
        MqttSettings.builder(url(), "fallback-restart-" + System.nanoTime())
            .version(MqttVersion.AUTO)
            .build();
    try (MqttConnection c = MqttConnection.open(s)) {
      c.onConnected(connects::add);
      c.subscribe(topic, 1, got::add);
      assertThat(c.awaitConnected(Duration.ofSeconds(30))).isTrue();
      assertThat(connects.poll(20, TimeUnit.SECONDS).firstTime()).isTrue();

      broker.restart();

      MqttConnection.Connected again = connects.poll(60, TimeUnit.SECONDS);
      assertThat(again).as("reconnected (last error: %s)", c.lastError()).isNotNull();
      assertThat(again.firstTime()).isFalse();
      assertThat(c.version()).isEqualTo(MqttVersion.V3_1_1);
      // The restarted broker kept no session: the layer subscribed again on its own.
      c.publish(Message.of(topic, new byte[] {1}, 1, false)).get(20, TimeUnit.SECONDS);
      Message in = got.poll(20, TimeUnit.SECONDS);
      assertThat(in).as("message after the restart").isNotNull();
      assertThat(in.payload()).containsExactly(1);
    }
  }

  @Test
  void v5Configured_againstA311OnlyBroker_staysDownAndSaysWhy() throws Exception {
    startBroker();
    MqttSettings s =
        MqttSettings.builder(url(), "v5-only-" + System.nanoTime()).version(MqttVersion.V5).build();
    try (MqttConnection c = MqttConnection.open(s)) {
      assertThat(c.awaitConnected(Duration.ofSeconds(5))).isFalse();
      assertThat(c.version()).isNotEqualTo(MqttVersion.V3_1_1);
      assertThat(c.lastError())
          .contains(url())
          .contains("(V5) failed")
          .contains("does not speak MQTT 5")
          .contains("version AUTO");
    }
  }
}
