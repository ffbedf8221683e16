package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mutual TLS with per-node ACLs, the production broker setup, on a private Mosquitto. */
class MqttTlsIT {
  @TempDir Path dir;

  @Test
  void mutualTls_identityAsUsername_aclConfinesEachNodeToItsOwnTopics() throws Exception {
    TestPki pki = TestPki.create(dir.resolve("pki"));
    MosquittoConfig config =
        MosquittoConfig.defaults()
            .withTls(pki.mosquittoTls(true, true))
            .withAcl(
                "pattern write edge/v1/+/%u/status", "user controller", "topic read edge/v1/#");
    try (MqttBroker broker = MqttBroker.privateMosquitto(config);
        PahoClient controller =
            new PahoClient(broker, pki.issueClient("controller").socketFactory());
        PahoClient node = new PahoClient(broker, pki.issueClient("node-1").socketFactory())) {
      assertThat(broker.url()).startsWith("ssl://127.0.0.1:");
      controller.subscribe("edge/v1/#");

      node.publish("edge/v1/site-a/node-2/status", "impostor", false);
      node.publish("edge/v1/site-a/node-1/status", "online", false);

      assertThat(controller.next())
          .isEqualTo(new PahoClient.Received("edge/v1/site-a/node-1/status", "online", false));
      assertThat(controller.messages.poll(1, TimeUnit.SECONDS)).isNull();
      assertThat(broker.log()).contains("u'node-1'"); // the certificate CN became the username
    }
  }

  @Test
  void mutualTls_clientWithoutCertificate_isRefused() throws Exception {
    TestPki pki = TestPki.create(dir.resolve("pki"));
    try (MqttBroker broker =
        MqttBroker.privateMosquitto(
            MosquittoConfig.defaults().withTls(pki.mosquittoTls(true, true)))) {
      assertThatThrownBy(() -> new PahoClient(broker, pki.anonymousSocketFactory()).close())
          .isInstanceOf(MqttException.class);
    }
  }

  @Test
  void issueClient_badCommonName_isRejectedWithTheRule() throws Exception {
    TestPki pki = TestPki.create(dir.resolve("pki"));
    assertThatThrownBy(() -> pki.issueClient("../etc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Client common name '../etc' must be 1-64 letters, digits, '.', '-' or '_' (it becomes"
                + " a file name and an MQTT username).");
  }
}
