package io.edgeslm.fleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;

/** The simulator's publisher under a burst far beyond its in-flight bound, on a real broker. */
class BoundedPublisherIT {

  @Test
  void burstOfQos1Publishes_allArriveAndTheWaitsAreCounted() throws Exception {
    // Mosquitto queues at most 1000 QoS 1 messages per subscriber above its in-flight window and
    // drops the rest (max_queued_messages, mosquitto.conf(5)); a subscriber slowed by a loaded CI
    // machine would lose part of the burst to that limit, which is the broker's rule, not the
    // publisher's. Room for the whole burst keeps this test about the publisher.
    MosquittoConfig config = MosquittoConfig.defaults().withExtraLines("max_queued_messages 5000");
    try (MqttBroker broker = MqttBroker.privateMosquitto(config)) {
      Set<String> arrived = ConcurrentHashMap.newKeySet();
      MqttAsyncClient sub = new MqttAsyncClient(broker.url(), "burst-sub", new MemoryPersistence());
      sub.setCallback(
          new io.edgeslm.fleet.bench.FleetBenchmark.Quiet() {
            @Override
            public void messageArrived(String topic, MqttMessage m) {
              arrived.add(new String(m.getPayload()));
            }
          });
      sub.connect().waitForCompletion(10_000);
      sub.subscribe("burst/#", 1).waitForCompletion(10_000);
      MqttAsyncClient pub = new MqttAsyncClient(broker.url(), "burst-pub", new MemoryPersistence());
      pub.connect().waitForCompletion(10_000);
      BoundedPublisher p = new BoundedPublisher(pub, 10, 10_000);

      for (int i = 0; i < 2000; i++) {
        p.publish("burst/" + (i % 50), Integer.toString(i).getBytes(), 1, false);
      }

      assertThat(p.awaitIdle(30_000)).isTrue();
      long deadline = System.currentTimeMillis() + 30_000;
      while (arrived.size() < 2000 && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      assertThat(arrived).hasSize(2000);
      assertThat(p.published()).isEqualTo(2000);
      assertThat(p.failed()).isZero();
      // 2000 publishes through 10 slots: never more than 10 unacknowledged, and some had to wait.
      assertThat(p.peakInFlight()).isBetween(1L, 10L);
      assertThat(p.delayed()).isPositive();
      pub.disconnect().waitForCompletion(10_000);
      pub.close();
      sub.disconnect().waitForCompletion(10_000);
      sub.close();
    }
  }
}
