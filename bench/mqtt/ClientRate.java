import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * Which MQTT client library moves 256 KiB QoS 1 messages fastest, against the Mosquitto tools in
 * the same run (ADR 0023). Receive: mosquitto_pub sends N messages, the receiver under test counts
 * them. Publish: the client under test sends N messages with at most 16 unacknowledged, and
 * mosquitto_sub counts them. Usage: java -cp <node-agent test class path> ClientRate.java PORT N
 */
public final class ClientRate {

  static final int SIZE = 256 * 1024;
  static final int WINDOW = 16;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int n = Integer.parseInt(args[1]);
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    Path payload = Files.createTempFile("clientrate", ".bin");
    Files.write(payload, new byte[SIZE]);
    double mb = (double) n * SIZE / 1e6;
    for (int round = 1; round <= rounds; round++) {
      System.out.printf("round %d, load %s%n", round, load());
      double subTool = receiveWithMosquittoSub(port, n, payload);
      double paho = receive(port, n, payload, new PahoReceiver(port));
      double hive = receive(port, n, payload, new HiveReceiver(port));
      System.out.printf(
          "receive %d x 256 KiB QoS 1 from mosquitto_pub: mosquitto_sub %.1f MB/s | Paho %.1f MB/s"
              + " (%.2fx) | HiveMQ %.1f MB/s (%.2fx) | load %s%n",
          n, mb / subTool, mb / paho, subTool / paho, mb / hive, subTool / hive, load());
      double pubTool = publishWithMosquittoPub(port, n, payload);
      double pahoPub = publishTo(port, n, () -> pahoPublish(port, n));
      double hivePub = publishTo(port, n, () -> hivePublish(port, n));
      System.out.printf(
          "publish %d x 256 KiB QoS 1 (16 in flight) to mosquitto_sub: mosquitto_pub %.1f MB/s |"
              + " Paho %.1f MB/s (%.2fx) | HiveMQ %.1f MB/s (%.2fx) | load %s%n",
          n, mb / pubTool, mb / pahoPub, pubTool / pahoPub, mb / hivePub, pubTool / hivePub, load());
    }
    Files.delete(payload);
  }

  static String load() throws Exception {
    return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
  }

  interface Receiver extends AutoCloseable {
    /** Subscribes to topic and returns a latch released after n messages. */
    CountDownLatch subscribe(String topic, int n) throws Exception;
  }

  /** Seconds for mosquitto_pub to deliver n messages to the receiver. */
  static double receive(int port, int n, Path payload, Receiver r) throws Exception {
    try (r) {
      String topic = "bench/rate/" + UUID.randomUUID();
      CountDownLatch done = r.subscribe(topic, n);
      long t0 = System.nanoTime();
      Process pub = mosquittoPub(port, topic, n, payload);
      if (!done.await(600, TimeUnit.SECONDS)) {
        throw new IllegalStateException("receiver got too few messages");
      }
      long t1 = System.nanoTime();
      pub.waitFor();
      return (t1 - t0) / 1e9;
    }
  }

  static Process mosquittoPub(int port, String topic, int n, Path payload) throws Exception {
    // --repeat sends the same file n times on one connection (mosquitto 2.0.11+).
    return new ProcessBuilder(
            "mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", Integer.toString(port),
            "-q", "1", "-t", topic, "-f", payload.toString(), "--repeat", Integer.toString(n),
            "--repeat-delay", "0")
        .inheritIO()
        .start();
  }

  static double receiveWithMosquittoSub(int port, int n, Path payload) throws Exception {
    String topic = "bench/rate/" + UUID.randomUUID();
    Process sub = mosquittoSub(port, topic, n);
    Thread.sleep(500); // subscribed
    long t0 = System.nanoTime();
    Process pub = mosquittoPub(port, topic, n, payload);
    sub.waitFor();
    long t1 = System.nanoTime();
    pub.waitFor();
    return (t1 - t0) / 1e9;
  }

  static Process mosquittoSub(int port, String topic, int n) throws Exception {
    return new ProcessBuilder(
            "mosquitto_sub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", Integer.toString(port),
            "-q", "1", "-t", topic, "-C", Integer.toString(n), "-N")
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  interface Publish {
    void run(String topic) throws Exception;
  }

  /** Seconds until mosquitto_sub has counted n messages from the publisher under test. */
  static double publishTo(int port, int n, java.util.function.Supplier<Publish> publisher)
      throws Exception {
    String topic = "bench/rate/" + UUID.randomUUID();
    Process sub = mosquittoSub(port, topic, n);
    Thread.sleep(500);
    Publish p = publisher.get();
    long t0 = System.nanoTime();
    p.run(topic);
    sub.waitFor();
    return (System.nanoTime() - t0) / 1e9;
  }

  static double publishWithMosquittoPub(int port, int n, Path payload) throws Exception {
    return publishTo(port, n, () -> topic -> mosquittoPub(port, topic, n, payload).waitFor());
  }

  static Publish pahoPublish(int port, int n) {
    return topic -> {
      MqttAsyncClient c =
          new MqttAsyncClient("tcp://127.0.0.1:" + port, "rate-paho-pub", new MemoryPersistence());
      MqttConnectionOptions o = new MqttConnectionOptions();
      o.setReceiveMaximum(WINDOW);
      c.connect(o).waitForCompletion(10_000);
      Semaphore window = new Semaphore(WINDOW);
      byte[] body = new byte[SIZE];
      CountDownLatch acked = new CountDownLatch(n);
      for (int i = 0; i < n; i++) {
        window.acquire();
        while (true) {
          try {
            c.publish(
                topic,
                body,
                1,
                false,
                null,
                new MqttActionListener() {
                  public void onSuccess(IMqttToken t) {
                    window.release();
                    acked.countDown();
                  }

                  public void onFailure(IMqttToken t, Throwable e) {
                    window.release();
                    acked.countDown();
                  }
                });
            break;
          } catch (MqttException e) {
            if (e.getReasonCode() != 32202) throw e; // paho.mqttv5 "too many publishes"
            Thread.sleep(1);
          }
        }
      }
      acked.await(600, TimeUnit.SECONDS);
      c.disconnect().waitForCompletion(10_000);
      c.close();
    };
  }

  static Publish hivePublish(int port, int n) {
    return topic -> {
      Mqtt5AsyncClient c =
          Mqtt5Client.builder()
              .identifier("rate-hive-pub")
              .serverHost("127.0.0.1")
              .serverPort(port)
              .buildAsync();
      c.connectWith().cleanStart(true).send().get(10, TimeUnit.SECONDS);
      Semaphore window = new Semaphore(WINDOW);
      byte[] body = new byte[SIZE];
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        window.acquire();
        all.add(
            c.publishWith()
                .topic(topic)
                .payload(body)
                .qos(MqttQos.AT_LEAST_ONCE)
                .send()
                .whenComplete((r, e) -> window.release()));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(600, TimeUnit.SECONDS);
      c.disconnect().get(10, TimeUnit.SECONDS);
    };
  }

  static final class PahoReceiver implements Receiver {
    final MqttAsyncClient c;

    PahoReceiver(int port) throws Exception {
      c = new MqttAsyncClient("tcp://127.0.0.1:" + port, "rate-paho-sub", new MemoryPersistence());
    }

    public CountDownLatch subscribe(String topic, int n) throws Exception {
      CountDownLatch done = new CountDownLatch(n);
      c.setCallback(
          new MqttCallback() {
            public void disconnected(MqttDisconnectResponse r) {}

            public void mqttErrorOccurred(MqttException e) {}

            public void messageArrived(String t, MqttMessage m) {
              if (m.getPayload().length == SIZE) done.countDown();
            }

            public void deliveryComplete(IMqttToken t) {}

            public void connectComplete(boolean reconnect, String uri) {}

            public void authPacketArrived(int reason, MqttProperties p) {}
          });
      c.connect(new MqttConnectionOptions()).waitForCompletion(10_000);
      c.subscribe(new MqttSubscription(topic, 1)).waitForCompletion(10_000);
      return done;
    }

    public void close() throws Exception {
      c.disconnect().waitForCompletion(10_000);
      c.close();
    }
  }

  static final class HiveReceiver implements Receiver {
    final Mqtt5AsyncClient c;

    HiveReceiver(int port) {
      c =
          Mqtt5Client.builder()
              .identifier("rate-hive-sub")
              .serverHost("127.0.0.1")
              .serverPort(port)
              .buildAsync();
    }

    public CountDownLatch subscribe(String topic, int n) throws Exception {
      CountDownLatch done = new CountDownLatch(n);
      AtomicLong bytes = new AtomicLong();
      c.publishes(
          MqttGlobalPublishFilter.ALL,
          p -> {
            // Copy out, as a real consumer does.
            byte[] b = p.getPayloadAsBytes();
            bytes.addAndGet(b.length);
            if (b.length == SIZE) done.countDown();
          });
      c.connectWith().cleanStart(true).send().get(10, TimeUnit.SECONDS);
      c.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);
      return done;
    }

    public void close() throws Exception {
      c.disconnect().get(10, TimeUnit.SECONDS);
    }
  }
}
