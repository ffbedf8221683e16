package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.internal.mqtt.BrokerTls;
import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.agent.internal.mqtt.MqttTransport;
import io.edgeslm.agent.internal.mqtt.OutboundMessage;
import io.edgeslm.agent.internal.update.ConnectionUpdateLink;
import io.edgeslm.agent.internal.update.UpdateLink;
import io.edgeslm.mqtt.Backoff;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.TestPki;
import io.edgeslm.testkit.TlsClientIdentity;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The update link over private Mosquitto brokers: the behaviour the update engine relies on (first
 * connect retried, subscriptions renewed after a broker restart, user properties delivered, the
 * broker's maximum packet size read from CONNACK), mutual TLS from the agent's broker settings, and
 * the link on the agent's one connection beside the transport without either holding up the other.
 */
class ConnectionUpdateLinkIT {

  @TempDir Path work;

  @Test
  void brokerDownAtStart_thenRestarted_linkConnectsResubscribesAndDeliversUserProperties()
      throws Exception {
    try (MqttBroker broker =
        MqttBroker.privateMosquitto(MosquittoConfig.defaults().withMaxPacketSize(1 << 20))) {
      broker.stop();
      List<UpdateLink.Message> got = new CopyOnWriteArrayList<>();
      AtomicInteger connects = new AtomicInteger();
      try (ConnectionUpdateLink link = ConnectionUpdateLink.open(broker.url(), "gw-link-update")) {
        link.subscribe("edge/v1/plant-7/gw-link/update/chunk", 1, got::add);
        link.onConnected(connects::incrementAndGet);
        assertThat(link.isConnected()).isFalse();

        broker.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> connects.get() == 1);
        assertThat(link.maxPacketSize()).isEqualTo(1 << 20);
        publish(broker, "edge/v1/plant-7/gw-link/update/chunk", "first", "index", "7");
        await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 1);
        assertThat(got.getFirst().topic()).isEqualTo("edge/v1/plant-7/gw-link/update/chunk");
        assertThat(new String(got.getFirst().payload(), StandardCharsets.UTF_8)).isEqualTo("first");
        assertThat(got.getFirst().userProperties()).containsEntry("index", "7");

        broker.restart();
        await().atMost(Duration.ofSeconds(60)).until(() -> connects.get() == 2);
        publish(broker, "edge/v1/plant-7/gw-link/update/chunk", "second", "index", "8");
        await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 2);
        assertThat(new String(got.get(1).payload(), StandardCharsets.UTF_8)).isEqualTo("second");
        assertThat(link.droppedInbound()).isZero();
      }
    }
  }

  @Test
  void clientCertificateFromAgentSettings_passesMutualTlsAndPerNodeAcl() throws Exception {
    TestPki pki = TestPki.create(work.resolve("pki"));
    TlsClientIdentity node = pki.issueClient("gw-0042");
    MosquittoConfig config =
        MosquittoConfig.defaults()
            .withTls(pki.mosquittoTls(true, true))
            .withAcl("pattern readwrite edge/v1/+/%u/#");
    try (MqttBroker broker = MqttBroker.privateMosquitto(config)) {
      AgentConfig.Broker settings =
          broker(
              Map.of(
                  "tlsCertificate", Optional.of(node.certificate().toString()),
                  "tlsPrivateKey", Optional.of(node.privateKey().toString()),
                  "tlsCa", Optional.of(pki.caCertificate().toString()),
                  "keepAlive", Duration.ofSeconds(30)));
      List<UpdateLink.Message> got = new CopyOnWriteArrayList<>();
      String topic = "edge/v1/plant-7/gw-0042/update/chunk";
      try (ConnectionUpdateLink link =
          ConnectionUpdateLink.open(
              ConnectionUpdateLink.settings(broker.url(), "gw-0042")
                  .tls(BrokerTls.options(settings).orElseThrow())
                  .build())) {
        assertThat(broker.url()).startsWith("ssl://");
        assertThat(link.awaitConnected(60_000)).as(broker.log()).isTrue();
        link.subscribe(topic, 1, got::add);
        link.publish(topic, "over mTLS".getBytes(StandardCharsets.UTF_8), 1, false);
        await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 1);
        assertThat(new String(got.getFirst().payload(), StandardCharsets.UTF_8))
            .isEqualTo("over mTLS");
      }
    }
  }

  @Test
  void onTheTransportsConnection_aBlockedUpdateHandler_doesNotHoldUpQuestions() throws Exception {
    try (MqttBroker broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults());
        MqttTransport transport =
            new MqttTransport(
                new MqttTransport.Settings(
                    broker.url(),
                    "gw-one",
                    Optional.empty(),
                    Optional.empty(),
                    null,
                    Duration.ofSeconds(30),
                    Duration.ofSeconds(10),
                    new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)),
                    16,
                    256,
                    "edge/v1/plant-7/gw-one/status",
                    "{}".getBytes(StandardCharsets.UTF_8),
                    Duration.ZERO))) {
      String chunkTopic = "edge/v1/plant-7/gw-one/update/chunk";
      String askTopic = "edge/v1/plant-7/gw-one/ask";
      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch updateHandlerEntered = new CountDownLatch(1);
      List<String> updateThreads = new CopyOnWriteArrayList<>();
      List<InboundMessage> questions = new CopyOnWriteArrayList<>();
      List<String> questionThreads = new CopyOnWriteArrayList<>();
      AtomicInteger linkConnects = new AtomicInteger();
      ConnectionUpdateLink[] link = new ConnectionUpdateLink[1];
      transport.subscribe(
          askTopic,
          1,
          m -> {
            questionThreads.add(Thread.currentThread().getName());
            questions.add(m);
          });
      transport.start(
          c -> {
            link[0] = ConnectionUpdateLink.over(c);
            try {
              link[0].subscribe(
                  chunkTopic,
                  1,
                  m -> {
                    updateThreads.add(Thread.currentThread().getName());
                    updateHandlerEntered.countDown();
                    try {
                      release.await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
            } catch (java.io.IOException e) {
              throw new AssertionError(e);
            }
            // Registered before the first connect: it sees that connect.
            link[0].onConnected(linkConnects::incrementAndGet);
          });
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> linkConnects.get() == 1);
        assertThat(transport.connectCount()).isEqualTo(1);
        // One connection for both: the link publishes through the transport's client.
        link[0].publish(chunkTopic, "chunk".getBytes(StandardCharsets.UTF_8), 1, false);
        assertThat(updateHandlerEntered.await(30, TimeUnit.SECONDS)).isTrue();
        // The update handler is now blocked; a question still gets through.
        transport
            .publish(
                OutboundMessage.json(
                    askTopic, "{\"question\":\"Oil?\"}".getBytes(StandardCharsets.UTF_8), 1, false))
            .get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> questions.size() == 1);
        assertThat(release.getCount()).isEqualTo(1);
        assertThat(updateThreads).containsExactly("update-inbound");
        assertThat(questionThreads).doesNotContain("update-inbound");
      } finally {
        release.countDown();
        if (link[0] != null) {
          link[0].close();
        }
      }
      assertThat(transport.isConnected()).as("the link's close leaves the connection").isTrue();
    }
  }

  /** Publishes with the Mosquitto client, MQTT 5, one user property. */
  private static void publish(MqttBroker broker, String topic, String payload, String k, String v)
      throws Exception {
    Process p =
        new ProcessBuilder(
                "mosquitto_pub",
                "-V",
                "mqttv5",
                "-h",
                broker.host(),
                "-p",
                Integer.toString(broker.port()),
                "-q",
                "1",
                "-t",
                topic,
                "-m",
                payload,
                "-D",
                "PUBLISH",
                "user-property",
                k,
                v)
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
        .isZero();
  }

  /** The agent's broker settings with the given values; every other optional key is absent. */
  private static AgentConfig.Broker broker(Map<String, Object> values) {
    return (AgentConfig.Broker)
        Proxy.newProxyInstance(
            AgentConfig.Broker.class.getClassLoader(),
            new Class<?>[] {AgentConfig.Broker.class},
            (proxy, method, args) -> {
              Object v = values.get(method.getName());
              if (v != null) {
                return v;
              }
              if (method.getReturnType() == Optional.class) {
                return Optional.empty();
              }
              throw new UnsupportedOperationException(method.getName() + " is not set here");
            });
  }
}
