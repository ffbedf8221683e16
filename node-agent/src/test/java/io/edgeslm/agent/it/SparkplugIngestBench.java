package io.edgeslm.agent.it;

import io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.tahu.message.model.Metric;
import org.eclipse.tahu.message.model.MetricDataType;

/**
 * Sparkplug B ingest throughput and CPU share of the packaged agent (bench/plant/run.sh).
 *
 * <ol>
 *   <li>Baseline: a bare Paho v5 subscriber that only counts messages receives {@code messages}
 *       DDATA messages of {@code metricsPerMessage} metrics each, published at QoS 0 as fast as one
 *       client can, on a private Mosquitto; its rate is messages times metrics per second.
 *   <li>The agent: the packaged agent following the group receives the same messages; its rate is
 *       the metric values it decoded and stored ({@code edgeslm_agent_sparkplug_metrics_total}) per
 *       second, over the same span (first publish to last value).
 *   <li>CPU: the publisher holds a plant-typical rate (default 2,000 metrics/s) for {@code
 *       seconds}; the agent's CPU time (utime + stime of its process) over that time, against the
 *       same span idle.
 * </ol>
 *
 * Usage: {@code SparkplugIngestBench [messages] [metricsPerMessage] [ratePerSecond] [seconds]}
 */
public final class SparkplugIngestBench {

  private static final String GROUP = "bench";
  private static final int DEFINED = 200;

  private SparkplugIngestBench() {}

  public static void main(String[] args) throws Exception {
    int messages = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int perMessage = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int rate = args.length > 2 ? Integer.parseInt(args[2]) : 2_000;
    int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 30;
    System.out.printf(
        "Sparkplug B ingest: %,d DDATA x %d metrics, then %,d metrics/s for %d s; load %s%n",
        messages, perMessage, rate, seconds, load());
    try (MqttBroker broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults())) {
      List<byte[]> data = ddata(messages, perMessage, 2);

      // 1. Baseline: a bare subscriber.
      AtomicLong received = new AtomicLong();
      MqttAsyncClient bare = client(broker.url(), "bench-bare");
      AtomicLong lastAt = new AtomicLong();
      bare.setCallback(
          new Counting() {
            @Override
            public void messageArrived(String topic, MqttMessage message) {
              received.incrementAndGet();
              lastAt.set(System.nanoTime());
            }
          });
      connect(bare);
      bare.subscribe("spBv1.0/" + GROUP + "/#", 1).waitForCompletion(10_000);
      MqttAsyncClient pub = client(broker.url(), "bench-pub");
      connect(pub);
      long t0 = System.nanoTime();
      for (byte[] p : data) {
        publish(pub, "spBv1.0/" + GROUP + "/DDATA/edge1/press", p);
      }
      waitQuiet(received, messages, 5_000);
      double bareSeconds = (lastAt.get() - t0) / 1e9;
      double bareRate = received.get() * (double) perMessage / bareSeconds;
      System.out.printf(
          "bare subscriber: %,d of %,d messages in %.2f s = %,.0f metrics/s (load %s)%n",
          received.get(), messages, bareSeconds, bareRate, load());
      bare.disconnect().waitForCompletion(5_000);
      bare.close();

      // 2. The packaged agent.
      Path work = Files.createTempDirectory("sparkplug-bench");
      int mgmt = AgentProcess.freePort();
      Map<String, String> env = new HashMap<>();
      env.put("EDGESLM_AGENT_BROKER_URL", broker.url());
      env.put("EDGESLM_AGENT_SITE", "bench");
      env.put("EDGESLM_AGENT_NODE_ID", "bench-agent");
      env.put("EDGESLM_AGENT_SPARKPLUG_GROUPS", GROUP);
      env.put("EDGESLM_AGENT_BROKER_INBOUND_QUEUE", "100000");
      env.put("EDGESLM_AGENT_DEMO_SIMULATOR", "off");
      env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(mgmt));
      env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal").toString());
      try (TestMqttClient watch = TestMqttClient.connect(broker.url());
          AgentProcess agent = AgentProcess.start(env, work)) {
        String status = Topics.node("bench", "bench-agent").status();
        watch.subscribe(status);
        watch.next(status, java.time.Duration.ofSeconds(120));
        publish(pub, "spBv1.0/" + GROUP + "/NBIRTH/edge1", births(0L, null));
        publish(pub, "spBv1.0/" + GROUP + "/DBIRTH/edge1/press", births(1L, "press"));
        long expected = DEFINED + (long) messages * perMessage;
        long start = System.nanoTime();
        for (byte[] p : data) {
          publish(pub, "spBv1.0/" + GROUP + "/DDATA/edge1/press", p);
        }
        long[] done = waitForMetric(mgmt, expected, 10_000);
        double agentSeconds = (done[1] - start) / 1e9;
        double agentRate = (done[0] - DEFINED) / agentSeconds;
        String dropped = scrape(mgmt, "edgeslm_agent_mqtt_inbound_dropped_total");
        System.out.printf(
            "agent: %,d of %,d metric values stored in %.2f s = %,.0f metrics/s (ratio %.2f to the"
                + " bare subscriber; inbound dropped %s; load %s)%n",
            done[0] - DEFINED,
            expected - DEFINED,
            agentSeconds,
            agentRate,
            agentRate / bareRate,
            dropped,
            load());

        // 3. CPU at a plant-typical rate, against idle.
        Thread.sleep(2_000);
        double idle = cpuShare(agent.pid(), seconds, () -> {});
        int perSecond = Math.max(1, rate / perMessage);
        List<byte[]> steady = ddata(perSecond * seconds, perMessage, 2 + messages);
        double busy =
            cpuShare(
                agent.pid(),
                seconds,
                () -> {
                  long begin = System.nanoTime();
                  for (int i = 0; i < steady.size(); i++) {
                    long due = begin + (long) (i * 1e9 / perSecond);
                    while (System.nanoTime() < due) {
                      Thread.onSpinWait();
                    }
                    publish(pub, "spBv1.0/" + GROUP + "/DDATA/edge1/press", steady.get(i));
                  }
                });
        System.out.printf(
            "agent CPU at %,d metrics/s: %.1f %% of one core (idle %.1f %%; load %s)%n",
            perSecond * perMessage, busy, idle, load());
        System.out.printf(
            "RESULT name=plant.sparkplug-ingest measured=%.0f baseline=%.0f unit=metrics/s"
                + " ratio=%.2f target=- met=- desc=Sparkplug B DDATA metrics decoded and stored by"
                + " the packaged agent vs a bare Paho subscriber's message rate x metrics per"
                + " message, same broker (%d metrics per message)%n",
            agentRate, bareRate, agentRate / bareRate, perMessage);
        System.out.printf(
            "RESULT name=plant.sparkplug-cpu measured=%.1f baseline=%.1f unit=%%core ratio=%s"
                + " target=- met=- desc=agent process CPU at %,d Sparkplug metrics/s vs the same"
                + " agent idle%n",
            busy,
            idle,
            idle > 0 ? String.format("%.1f", busy / idle) : "-",
            perSecond * perMessage);
      }
      pub.disconnect().waitForCompletion(5_000);
      pub.close();
    }
  }

  interface Action {
    void run() throws Exception;
  }

  private static double cpuShare(long pid, int seconds, Action during) throws Exception {
    long c0 = cpuTicks(pid);
    long t0 = System.nanoTime();
    during.run();
    long remaining = t0 + seconds * 1_000_000_000L - System.nanoTime();
    if (remaining > 0) {
      Thread.sleep(remaining / 1_000_000);
    }
    long c1 = cpuTicks(pid);
    double wall = (System.nanoTime() - t0) / 1e9;
    // /proc/<pid>/stat counts in clock ticks, 100 per second on Linux.
    return (c1 - c0) / 100.0 / wall * 100;
  }

  private static long cpuTicks(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  private static byte[] births(long seq, String device) throws Exception {
    List<Metric> metrics = new ArrayList<>();
    if (device == null) {
      metrics.add(TahuPayloads.bdSeq(0));
      return TahuPayloads.encode(seq, metrics);
    }
    for (int i = 0; i < DEFINED; i++) {
      metrics.add(
          TahuPayloads.birthMetric(
              "Metric " + i, i, MetricDataType.Float, (float) i, "°C", 0.0, 1000.0));
    }
    return TahuPayloads.encode(seq, metrics);
  }

  private static List<byte[]> ddata(int count, int perMessage, long firstSeq) throws Exception {
    List<byte[]> out = new ArrayList<>(count);
    for (int m = 0; m < count; m++) {
      List<Metric> metrics = new ArrayList<>(perMessage);
      for (int k = 0; k < perMessage; k++) {
        long alias = (m * (long) perMessage + k) % DEFINED;
        metrics.add(TahuPayloads.aliasMetric(alias, MetricDataType.Float, (float) (m % 500)));
      }
      out.add(TahuPayloads.encode((firstSeq + m) % 256, metrics));
    }
    return out;
  }

  private static MqttAsyncClient client(String url, String id) throws MqttException {
    return new MqttAsyncClient(url, id, new MemoryPersistence());
  }

  private static void connect(MqttAsyncClient c) throws MqttException {
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(true);
    o.setMaxReconnectDelay(1000);
    c.connect(o).waitForCompletion(10_000);
  }

  private static void publish(MqttAsyncClient c, String topic, byte[] payload) throws Exception {
    MqttMessage m = new MqttMessage(payload);
    m.setQos(0);
    while (true) {
      try {
        c.publish(topic, m);
        return;
      } catch (MqttException e) {
        Thread.sleep(1); // Paho's outgoing window is full: wait for it to drain
      }
    }
  }

  private static void waitQuiet(AtomicLong count, long expected, long quietMs)
      throws InterruptedException {
    long last = -1;
    long since = System.currentTimeMillis();
    while (count.get() < expected) {
      Thread.sleep(20);
      long n = count.get();
      if (n != last) {
        last = n;
        since = System.currentTimeMillis();
      } else if (System.currentTimeMillis() - since > quietMs) {
        return;
      }
    }
  }

  /** Polls the metric until it reaches {@code expected} or stops growing; [value, nanoTime]. */
  private static long[] waitForMetric(int port, long expected, long quietMs) throws Exception {
    long last = -1;
    long lastChange = System.nanoTime();
    long since = System.currentTimeMillis();
    while (true) {
      String v = scrape(port, "edgeslm_agent_sparkplug_metrics_total");
      long n = v.equals("-") ? 0 : (long) Double.parseDouble(v);
      if (n != last) {
        last = n;
        lastChange = System.nanoTime();
        since = System.currentTimeMillis();
      }
      if (n >= expected || System.currentTimeMillis() - since > quietMs) {
        return new long[] {n, lastChange};
      }
      Thread.sleep(20);
    }
  }

  private static String scrape(int port, String name) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      String body =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*})? ([0-9.E+-]+)$").matcher(body);
      return m.find() ? m.group(1) : "-";
    }
  }

  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (java.io.IOException e) {
      return "?";
    }
  }

  private abstract static class Counting implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse r) {}

    @Override
    public void mqttErrorOccurred(MqttException e) {}

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String serverUri) {}

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }
}
