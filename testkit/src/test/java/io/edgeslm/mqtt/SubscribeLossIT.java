package io.edgeslm.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.testkit.MqttBroker;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A connection lost after CONNACK but before the SUBACKs: the connect attempt succeeded, the
 * connection is not ready, and the layer must still try again. The fault comes from a TCP relay in
 * front of a real Mosquitto that cuts the first connection the moment the client sends SUBSCRIBE.
 */
class SubscribeLossIT {

  @Test
  void connectionLostWhileSubscribing_reconnectsSubscribesAgainAndReceives() throws Exception {
    try (MqttBroker broker = MqttBroker.privateMosquitto();
        CutOnFirstSubscribe relay = new CutOnFirstSubscribe(broker.port())) {
      String topic = "it/subscribe-loss/" + System.nanoTime();
      BlockingQueue<Message> got = new ArrayBlockingQueue<>(4);
      MqttSettings s =
          MqttSettings.builder(relay.url(), "subscribe-loss-" + System.nanoTime()).build();
      try (MqttConnection c = MqttConnection.open(s)) {
        c.subscribe(topic, 1, got::add);
        assertThat(c.awaitConnected(Duration.ofSeconds(30)))
            .as("connected again (last error: %s)", c.lastError())
            .isTrue();
        assertThat(relay.cut.get()).as("the relay cut a connection while subscribing").isTrue();
        assertThat(relay.connections.get()).isGreaterThanOrEqualTo(2);

        c.publish(Message.of(topic, new byte[] {5}, 1, false)).get(20, TimeUnit.SECONDS);
        Message in = got.poll(20, TimeUnit.SECONDS);
        assertThat(in).as("a message on the subscription made after the cut").isNotNull();
        assertThat(in.payload()).containsExactly(5);
      }
    }
  }

  /** Relays TCP to the broker; cuts the first connection on its first SUBSCRIBE packet. */
  static final class CutOnFirstSubscribe implements AutoCloseable {
    final ServerSocket server;
    final int brokerPort;
    final AtomicBoolean cut = new AtomicBoolean();
    final AtomicInteger connections = new AtomicInteger();

    CutOnFirstSubscribe(int brokerPort) throws IOException {
      this.brokerPort = brokerPort;
      this.server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
      Thread.ofVirtual().start(this::accept);
    }

    String url() {
      return "tcp://127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket client = server.accept();
          Socket up = new Socket(InetAddress.getLoopbackAddress(), brokerPort);
          connections.incrementAndGet();
          Thread.ofVirtual().start(() -> pump(up, client));
          Thread.ofVirtual().start(() -> fromClient(client, up));
        } catch (IOException e) {
          return;
        }
      }
    }

    private static void pump(Socket from, Socket to) {
      try (InputStream in = from.getInputStream();
          OutputStream out = to.getOutputStream()) {
        in.transferTo(out);
      } catch (IOException e) {
        // one side closed
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }

    /** Forwards the client's packets one by one (MQTT fixed header: type byte, length varint). */
    private void fromClient(Socket client, Socket up) {
      try {
        DataInputStream in = new DataInputStream(client.getInputStream());
        OutputStream out = up.getOutputStream();
        while (true) {
          int type = in.readUnsignedByte();
          int length = 0;
          int shift = 0;
          byte[] header = new byte[5];
          header[0] = (byte) type;
          int h = 1;
          int b;
          do {
            b = in.readUnsignedByte();
            header[h++] = (byte) b;
            length |= (b & 0x7f) << shift;
            shift += 7;
          } while ((b & 0x80) != 0);
          byte[] body = in.readNBytes(length);
          if ((type >> 4) == 8 && cut.compareAndSet(false, true)) {
            return; // SUBSCRIBE on the first connection: drop it and cut both sides
          }
          out.write(header, 0, h);
          out.write(body);
          out.flush();
        }
      } catch (IOException e) {
        // closed
      } finally {
        closeQuietly(client);
        closeQuietly(up);
      }
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException e) {
        // already closed
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
