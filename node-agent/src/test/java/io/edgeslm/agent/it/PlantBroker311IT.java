package io.edgeslm.agent.it;

import static io.edgeslm.agent.it.TwoBrokersResource.NODE;
import static io.edgeslm.agent.it.TwoBrokersResource.OIL_TOPIC;
import static io.edgeslm.agent.it.TwoBrokersResource.SITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.lifecycle.AgentRuntime;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Topics;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/**
 * The agent on a plant broker that speaks MQTT 3.1.1 only (Moquette 0.16), with the fleet broker on
 * MQTT 5: the local connection falls back to 3.1.1 by itself, and an operator with a 3.1.1 client
 * (Eclipse Paho v3, independent of our layer) gets answers and reports there, with the reply topic
 * and id in the payload as the contract says for MQTT 3.1.1.
 */
@QuarkusTest
@WithTestResource(Plant311BrokersResource.class)
class PlantBroker311IT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final NodeTopics T = Topics.node(SITE, NODE);

  @Inject AgentRuntime runtime;

  private record Got(String topic, byte[] payload) {}

  @Test
  void plantBrokerSpeaks311Only_localConnectionFallsBack_operatorOn311GetsAnswersAndReports()
      throws Exception {
    await().atMost(WAIT).until(() -> runtime.isBrokerConnected() && runtime.isFleetConnected());
    assertThat(runtime.brokerMqttVersion()).contains("3.1.1");

    HttpResponse<String> ready =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + TwoBrokersResource.managementPort
                                + "/q/health/ready"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(ready.body()).contains("\"brokerMqttVersion\": \"3.1.1\"");

    BlockingQueue<Got> got = new ArrayBlockingQueue<>(64);
    MqttClient operator =
        new MqttClient(
            TwoBrokersResource.local.url(),
            "operator-311-" + System.nanoTime(),
            new MemoryPersistence());
    operator.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {}

          @Override
          public void messageArrived(String topic, MqttMessage message) {
            got.add(new Got(topic, message.getPayload()));
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {}
        });
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o.setCleanSession(true);
    operator.connect(o);
    try {
      operator.subscribe("operator/311/answers", 1);
      operator.subscribe(T.report(), 1);
      operator.publish(OIL_TOPIC, message("61.4"));
      // The agent reads the value before the question: ask until the answer names it.
      String answer =
          await()
              .atMost(WAIT)
              .until(
                  () -> {
                    operator.publish(
                        T.ask(),
                        message(
                            "{\"id\":\"q311\",\"replyTo\":\"operator/311/answers\","
                                + "\"question\":\"What is the oil temperature of press 3?\"}"));
                    Got g = next(got, "operator/311/answers");
                    Reply r = Json.read(g.payload(), Reply.class);
                    assertThat(r.id()).isEqualTo("q311");
                    return ((Answer) r).answer();
                  },
                  a -> a.startsWith("Press 3 oil temperature is 61.4 °C"));
      assertThat(answer).contains("normal 40–80");

      operator.publish(OIL_TOPIC, message("97.5"));
      Got report = next(got, T.report());
      assertThat(Json.read(report.payload(), SensorReport.class).content().anomalies())
          .isNotEmpty();
    } finally {
      operator.disconnect();
      operator.close();
    }

    // The fleet side is untouched by the plant broker's version: status on MQTT 5 as before.
    try (TestMqttClient onFleet = TestMqttClient.connect(TwoBrokersResource.fleet.url())) {
      onFleet.subscribe(T.status());
      NodeStatus status = Json.read(onFleet.next(T.status(), WAIT).payload(), NodeStatus.class);
      assertThat(status.state()).isEqualTo(io.edgeslm.protocol.NodeState.ONLINE);
    }
  }

  private static MqttMessage message(String text) {
    MqttMessage m = new MqttMessage(text.getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    return m;
  }

  /** The next message on {@code topic}, skipping others; fails after {@link #WAIT}. */
  private static Got next(BlockingQueue<Got> got, String topic) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Got g = got.poll(1, TimeUnit.SECONDS);
      if (g != null && g.topic().equals(topic)) {
        return g;
      }
    }
    throw new AssertionError("nothing on " + topic + " within " + WAIT);
  }
}
