package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.testkit.internal.mqtt.LocalBroker;
import io.edgeslm.testkit.internal.process.Ports;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Proves each broker harness against the real Mosquitto. */
class MqttBrokerIT {

  private static String topic(String leaf) {
    return "edgeslm-test/" + UUID.randomUUID() + "/" + leaf;
  }

  @Test
  void local_sharedMosquitto_roundTripsAMessage() throws Exception {
    try (MqttBroker broker = MqttBroker.local();
        PahoClient sub = new PahoClient(broker);
        PahoClient pub = new PahoClient(broker)) {
      assertThat(broker.url()).isEqualTo("tcp://127.0.0.1:1883");
      String t = topic("ping");
      sub.subscribe(t);
      pub.publish(t, "hello", false);
      assertThat(sub.next()).isEqualTo(new PahoClient.Received(t, "hello", false));
    }
  }

  @Test
  void local_nothingListening_failsWithTheInstallHint() {
    int port = Ports.freeLoopbackPort();
    assertThatThrownBy(() -> LocalBroker.connect("127.0.0.1", port))
        .isInstanceOf(HarnessUnavailableException.class)
        .hasMessage(
            "Mosquitto is not reachable on 127.0.0.1:"
                + port
                + ": install it with apt-get install mosquitto and start it, or run ./run-tests");
  }

  @Test
  void local_cannotBeStopped() throws Exception {
    try (MqttBroker broker = MqttBroker.local()) {
      assertThatThrownBy(broker::stop)
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("use MqttBroker.privateMosquitto(...)");
    }
  }

  @Test
  void privateMosquitto_restartOnSamePort_keepsRetainedStateWithPersistence() throws Exception {
    try (MqttBroker broker =
        MqttBroker.privateMosquitto(MosquittoConfig.defaults().withPersistence(true))) {
      int port = broker.port();
      assertThat(port).isNotEqualTo(1883);
      String t = topic("status");
      PahoClient before = new PahoClient(broker);
      before.publish(t, "online", true);
      before.client.disconnect(5000);
      before.close();

      PahoClient watcher = new PahoClient(broker);
      broker.restart();
      assertThat(watcher.disconnected.await(10, TimeUnit.SECONDS))
          .as("clients see the restart")
          .isTrue();
      watcher.close();

      assertThat(broker.port()).isEqualTo(port);
      try (PahoClient after = new PahoClient(broker)) {
        after.subscribe(t);
        assertThat(after.next()).isEqualTo(new PahoClient.Received(t, "online", true));
      }
      assertThat(broker.log()).contains("mosquitto version").contains("terminating");
    }
  }

  @Test
  void privateMosquitto_kill_closesThePortAndStartBringsItBack() throws Exception {
    try (MqttBroker broker = MqttBroker.privateMosquitto()) {
      broker.kill();
      assertThat(Ports.accepts(broker.host(), broker.port(), 500)).isFalse();
      broker.start();
      try (PahoClient sub = new PahoClient(broker);
          PahoClient pub = new PahoClient(broker)) {
        String t = topic("after-kill");
        sub.subscribe(t);
        pub.publish(t, "back", false);
        assertThat(sub.next().payload()).isEqualTo("back");
      }
    }
  }

  @Test
  void privateMosquitto_maxPacketSize_announcedAndOversizedPublishRefused() throws Exception {
    try (MqttBroker broker =
            MqttBroker.privateMosquitto(MosquittoConfig.defaults().withMaxPacketSize(1024));
        PahoClient sub = new PahoClient(broker)) {
      assertThat(sub.connectToken.getResponseProperties().getMaximumPacketSize()).isEqualTo(1024L);
      String t = topic("chunks");
      sub.subscribe(t);

      // A raw MQTT 3.1.1 client ignores the limit, so the broker itself must refuse the packet.
      try (Socket s = new Socket(broker.host(), broker.port())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        out.write(RawMqtt.connect("raw-" + UUID.randomUUID()));
        assertThat(in.readNBytes(4)).containsExactly(0x20, 0x02, 0x00, 0x00); // CONNACK accepted
        out.write(RawMqtt.publish(t, "x".repeat(100)));
        out.write(RawMqtt.publish(t, "y".repeat(2000)));
        out.flush();
        assertThat(readUntilClosed(in)).as("broker closes the connection").isTrue();
      }
      assertThat(sub.next().payload()).isEqualTo("x".repeat(100));
      assertThat(sub.messages.poll(1, TimeUnit.SECONDS)).as("oversized message").isNull();
    }
  }

  @Test
  void privateMosquitto_acl_deliversOnlyPermittedTopics() throws Exception {
    String prefix = "edgeslm-test/" + UUID.randomUUID();
    try (MqttBroker broker =
            MqttBroker.privateMosquitto(
                MosquittoConfig.defaults()
                    .withAcl(
                        "topic readwrite " + prefix + "/open/#", "topic read " + prefix + "/#"));
        PahoClient sub = new PahoClient(broker);
        PahoClient pub = new PahoClient(broker)) {
      sub.subscribe(prefix + "/#");
      pub.publish(prefix + "/closed/a", "denied", false);
      pub.publish(prefix + "/open/a", "allowed", false);
      assertThat(sub.next())
          .isEqualTo(new PahoClient.Received(prefix + "/open/a", "allowed", false));
      assertThat(sub.messages.poll(1, TimeUnit.SECONDS)).isNull();
    }
  }

  @Test
  void privateMosquitto_badConfiguration_failsQuotingTheBrokerLog() {
    assertThatThrownBy(
            () ->
                MqttBroker.privateMosquitto(
                    MosquittoConfig.defaults().withExtraLines("no_such_option 1")))
        .isInstanceOf(HarnessUnavailableException.class)
        .hasMessageStartingWith("Private Mosquitto exited with status 3 on start")
        .hasMessageContaining("no_such_option");
  }

  @Test
  void extension_givesTheClassABroker() throws Exception {
    MqttBrokerExtension ext = MqttBrokerExtension.privateMosquitto(MosquittoConfig.defaults());
    ext.beforeAll(null);
    MqttBroker broker = ext.broker();
    assertThat(Ports.accepts(broker.host(), broker.port(), 1000)).isTrue();
    ext.afterAll(null);
    assertThat(Ports.accepts(broker.host(), broker.port(), 500)).isFalse();
    assertThatThrownBy(ext::broker).isInstanceOf(IllegalStateException.class);
  }

  private static boolean readUntilClosed(InputStream in) {
    try {
      while (in.read() >= 0) {
        // drain whatever the broker sends before closing
      }
      return true;
    } catch (IOException e) {
      return true; // a reset is a close too
    }
  }

  /** Just enough MQTT 3.1.1 encoding (OASIS MQTT 3.1.1, section 3) to talk to a broker by hand. */
  static final class RawMqtt {
    static byte[] connect(String clientId) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      writeString(body, "MQTT");
      body.write(4); // protocol level 3.1.1
      body.write(0x02); // clean session
      body.write(0);
      body.write(60); // keep alive
      writeString(body, clientId);
      return packet(0x10, body.toByteArray());
    }

    static byte[] publish(String topic, String payload) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      writeString(body, topic);
      body.writeBytes(payload.getBytes(StandardCharsets.UTF_8));
      return packet(0x30, body.toByteArray());
    }

    private static byte[] packet(int type, byte[] body) {
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      p.write(type);
      int len = body.length;
      do { // remaining length: 7 bits per byte, high bit = more
        int b = len % 128;
        len /= 128;
        p.write(len > 0 ? b | 0x80 : b);
      } while (len > 0);
      p.writeBytes(body);
      return p.toByteArray();
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      out.write(b.length >> 8);
      out.write(b.length & 0xFF);
      out.writeBytes(b);
    }
  }
}
