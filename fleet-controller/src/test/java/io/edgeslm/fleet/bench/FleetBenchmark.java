package io.edgeslm.fleet.bench;

import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.TestBundles;
import io.edgeslm.fleet.TestDatabases;
import io.edgeslm.fleet.Thresholds;
import io.edgeslm.fleet.Wave;
import io.edgeslm.fleet.internal.app.ControllerSettings;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.ingest.LagStats;
import io.edgeslm.fleet.internal.rollout.RolloutPlanRequest;
import io.edgeslm.fleet.sim.BoundedPublisher;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * The controller's scale benchmark (not a test; run with {@code bench/controller/run.sh}).
 *
 * <p>Part 1, heartbeat ingest: a private Mosquitto, a fresh PostgreSQL database, the controller
 * core, and a simulated fleet of N virtual nodes (birth, online status, then health every 30 s,
 * spread evenly) published over a few multiplexed MQTT connections. For each N it reports the p99
 * lag from a health message's {@code at} to its database commit, and as baseline the p99 lag of a
 * bare subscriber receiving the same stream (broker delivery alone), measured in the same run.
 *
 * <p>Part 2, dispatch: a rollout whose single wave selects 10,000 of the registered nodes; time
 * from creation until every retained assignment reached a subscriber, against the baseline of one
 * client publishing the same 10,000 retained messages directly.
 */
public final class FleetBenchmark {

  static final ModelRef MODEL = ModelRef.of("phi-mini", 1, "sha256:" + "a".repeat(64));
  static final int CONNECTIONS = 8;

  public static void main(String[] args) throws Exception {
    int[] fleets = parse(args.length > 0 ? args[0] : "10000,30000,60000,100000");
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    int dispatchNodes = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
    System.out.printf(
        Locale.ROOT,
        "# fleet-controller benchmark: %d cores, heap %d MiB, PostgreSQL at %s:%d%n",
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20,
        TestDatabases.PG_HOST,
        TestDatabases.PG_PORT);
    try (MqttBroker broker =
        MqttBroker.privateMosquitto(
            MosquittoConfig.defaults()
                .withExtraLines("max_queued_messages 1000000", "max_inflight_messages 0"))) {
      int registered = 0;
      FleetController controller = null;
      for (int n : fleets) {
        if (controller != null) {
          controller.close();
        }
        controller = controller(broker, TestDatabases.postgres());
        controller.start();
        controller.mqtt().awaitConnected(Duration.ofSeconds(30));
        System.out.printf(
            Locale.ROOT,
            "%n## heartbeat ingest, %d nodes at a 30 s heartbeat (%.0f msg/s)%n",
            n,
            n / 30.0);
        Fleet fleet = new Fleet(broker.url(), n);
        fleet.births(controller);
        Result r = fleet.heartbeats(controller, Duration.ofSeconds(seconds));
        long[] dr = fleet.delayedAndRefused();
        fleet.close();
        System.out.printf(
            Locale.ROOT,
            "simulator: %d publishes waited for an in-flight slot, %d refused by the client"
                + " (32202, retried)%n",
            dr[0],
            dr[1]);
        System.out.printf(
            Locale.ROOT,
            "nodes=%d published=%d stored=%d dropped=%d p50=%d ms p99=%d ms max=%d ms |"
                + " baseline broker-only p99=%d ms | ratio p99/baseline=%.1f | %s%n",
            n,
            r.published,
            r.stored,
            r.dropped,
            r.p50,
            r.p99,
            r.max,
            r.baselineP99,
            r.p99 / (double) Math.max(1, r.baselineP99),
            r.p99 < 1000 && r.dropped == 0 ? "SUSTAINED" : "NOT SUSTAINED");
        registered = n;
      }
      if (dispatchNodes > 0 && controller != null) {
        dispatch(broker, controller, Math.min(dispatchNodes, registered));
      }
      if (controller != null) {
        controller.close();
      }
    }
  }

  static int[] parse(String csv) {
    return java.util.Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  static FleetController controller(MqttBroker broker, DataSource ds) throws Exception {
    Path dir = Files.createTempDirectory("fleet-bench-");
    return new FleetController(
        ds,
        new ControllerSettings(
            broker.url(),
            "bench-controller",
            null,
            null,
            "fleet",
            dir.resolve("bundles"),
            256 * 1024,
            100L << 20,
            TrustStore.pinned(List.of(KEY.verificationKey())),
            Duration.ofMillis(500),
            Duration.ofDays(7),
            200_000,
            2000),
        Clock.systemUTC());
  }

  static final SigningKey KEY = SigningKey.generate(KeyCurve.P256);

  record Result(
      long published, long stored, long dropped, long p50, long p99, long max, long baselineP99) {}

  /** N virtual nodes multiplexed over a few MQTT connections. */
  static final class Fleet implements AutoCloseable {
    final int n;
    final List<MqttAsyncClient> clients = new ArrayList<>();
    final List<BoundedPublisher> publishers = new ArrayList<>();
    final MqttAsyncClient observer;
    final LagStats brokerLag = new LagStats();
    final Clock clock;

    Fleet(String uri, int n) throws MqttException {
      this(uri, n, Clock.systemUTC());
    }

    /** A fleet whose messages carry {@code clock}'s time (a compressed clock in the soak). */
    Fleet(String uri, int n, Clock clock) throws MqttException {
      this.n = n;
      this.clock = clock;
      for (int i = 0; i < CONNECTIONS; i++) {
        MqttAsyncClient c = new MqttAsyncClient(uri, "bench-fleet-" + i, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setReceiveMaximum(65535);
        c.connect(o).waitForCompletion(10_000);
        clients.add(c);
        // Bounded in flight with completions, so the offered load is what the broker took.
        publishers.add(new BoundedPublisher(c, 256, 60_000));
      }
      observer = new MqttAsyncClient(uri, "bench-observer", new MemoryPersistence());
      observer.setCallback(
          new Quiet() {
            @Override
            public void messageArrived(String topic, MqttMessage m) {
              try {
                NodeHealth h = Json.read(m.getPayload(), NodeHealth.class);
                brokerLag.record(Fleet.this.clock.millis() - h.at().toEpochMilli());
              } catch (Exception e) {
                // ignore
              }
            }
          });
      observer.connect().waitForCompletion(10_000);
      observer.subscribe("edge/v1/+/+/health", 0).waitForCompletion(10_000);
    }

    static String id(int i) {
      return String.format("vn-%06d", i);
    }

    void births(FleetController controller) throws Exception {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        Instant now = clock.instant();
        var topics = Topics.node("site-" + (i % 20), id(i));
        NodeBirth b =
            new NodeBirth(
                Protocol.SCHEMA_VERSION,
                "0.1.0",
                "amd64",
                "gw-8g",
                8L << 30,
                Map.of("group", "g" + (i % 10)),
                MODEL,
                null,
                now,
                now);
        publishers
            .get(i % CONNECTIONS)
            .publish(topics.status(), Json.write(NodeStatus.online(now)), 1, true);
        publishers.get(i % CONNECTIONS).publish(topics.birth(), Json.write(b), 1, true);
      }
      long deadline = System.currentTimeMillis() + 600_000;
      while (controller.nodes().countByStatus().getOrDefault("online", 0L) < n
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(500);
      }
      System.out.printf(
          Locale.ROOT,
          "registered %d nodes (birth + status) in %.1f s%n",
          controller.nodes().countByStatus().getOrDefault("online", 0L),
          (System.nanoTime() - t0) / 1e9);
    }

    Result heartbeats(FleetController controller, Duration measure) throws Exception {
      double perSecond = n / 30.0;
      long periodNanos = (long) (1e9 / perSecond);
      Duration warmup = Duration.ofSeconds(15);
      long start = System.nanoTime();
      long end = start + warmup.plus(measure).toNanos();
      long warmEnd = start + warmup.toNanos();
      boolean reset = false;
      AtomicLong published = new AtomicLong();
      long storedAtReset = 0;
      long droppedAtReset = 0;
      long requests = 0;
      long next = start;
      int i = 0;
      while (System.nanoTime() < end) {
        long now = System.nanoTime();
        if (!reset && now >= warmEnd) {
          controller.health().lag().reset();
          brokerLag.reset();
          storedAtReset = controller.health().stored();
          droppedAtReset = controller.health().dropped();
          published.set(0);
          reset = true;
        }
        if (now < next) {
          // Sleep at least 1 ms and then publish what fell due, in small bursts: a simulator that
          // spins between messages would take a core from the controller it measures.
          java.util.concurrent.locks.LockSupport.parkNanos(Math.max(next - now, 1_000_000));
          continue;
        }
        next += periodNanos;
        int node = i++ % n;
        requests += 1;
        NodeHealth h =
            new NodeHealth(
                Protocol.SCHEMA_VERSION,
                clock.instant(),
                30,
                true,
                null,
                Source.MODEL,
                MODEL,
                20.0,
                800L,
                0,
                requests,
                0,
                1L << 30,
                8L << 30,
                10L << 30,
                null,
                0.9);
        publishers
            .get(node % CONNECTIONS)
            .publish(
                Topics.node("site-" + (node % 20), id(node)).health(), Json.write(h), 0, false);
        published.incrementAndGet();
      }
      // Let the writer drain what was published inside the window.
      long drainUntil = System.currentTimeMillis() + 30_000;
      while (controller.health().queued() > 0 && System.currentTimeMillis() < drainUntil) {
        Thread.sleep(100);
      }
      Thread.sleep(1000);
      LagStats lag = controller.health().lag();
      return new Result(
          published.get(),
          controller.health().stored() - storedAtReset,
          controller.health().dropped() - droppedAtReset,
          lag.quantile(0.5),
          lag.quantile(0.99),
          lag.quantile(1.0),
          brokerLag.quantile(0.99));
    }

    /** Publishes that waited for a free in-flight slot, and 32202 refusals (retried), so far. */
    long[] delayedAndRefused() {
      long d = 0;
      long r = 0;
      for (BoundedPublisher p : publishers) {
        d += p.delayed();
        r += p.refused();
      }
      return new long[] {d, r};
    }

    @Override
    public void close() throws MqttException {
      for (BoundedPublisher p : publishers) {
        try {
          p.awaitIdle(30_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      for (MqttAsyncClient c : clients) {
        c.disconnect().waitForCompletion(10_000);
        c.close();
      }
      observer.disconnect().waitForCompletion(10_000);
      observer.close();
    }
  }

  static void dispatch(MqttBroker broker, FleetController controller, int target) throws Exception {
    System.out.printf(Locale.ROOT, "%n## rollout wave dispatch to %d nodes%n", target);
    Path dir = Files.createTempDirectory("bench-bundle");
    Path bundle = TestBundles.signed(dir, KEY, "phi-mini", 2, 1 << 20);
    BundleInfo info = controller.catalog().upload(TestBundles.spool(bundle), "bench");
    AtomicLong received = new AtomicLong();
    MqttAsyncClient sub =
        new MqttAsyncClient(broker.url(), "bench-assign-sub", new MemoryPersistence());
    sub.setCallback(
        new Quiet() {
          @Override
          public void messageArrived(String topic, MqttMessage m) {
            if (m.getPayload().length > 0 && !topic.startsWith("bench/")) {
              received.incrementAndGet();
            }
          }
        });
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setReceiveMaximum(65535);
    sub.connect(o).waitForCompletion(10_000);
    sub.subscribe("edge/v1/+/+/update/assignment", 1).waitForCompletion(10_000);
    // One rollout whose first wave is exactly `target` nodes; the second waits for an approval
    // that never comes, so only the measured wave is dispatched.
    long t0 = System.nanoTime();
    String rid = "bench-" + System.currentTimeMillis();
    controller
        .runner()
        .create(
            rid,
            new RolloutPlanRequest(
                null,
                "bench wave",
                info.bundleId(),
                null,
                List.of(Wave.count(target), Wave.percent(100).withApproval()),
                new Thresholds(100, 0, io.edgeslm.fleet.ErrorAction.PAUSE, Duration.ofHours(1)),
                null,
                null),
            "bench");
    long expected = target;
    long deadline = System.currentTimeMillis() + 900_000;
    // When the step (state, outbox rows, retained records) is committed: the targets are stored.
    double storedAt = -1;
    while (received.get() < expected && System.currentTimeMillis() < deadline) {
      if (storedAt < 0 && controller.runner().get(rid).targets().size() >= target) {
        storedAt = (System.nanoTime() - t0) / 1e9;
      }
      Thread.sleep(50);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "step stored (state, %d outbox rows, retained records) after %.2f s; first received"
            + " assignment to last: the rest%n",
        target,
        storedAt);
    System.out.printf(
        Locale.ROOT,
        "dispatched %d assignments (%d bytes each) in %.2f s (%.0f/s)%n",
        received.get(),
        Json.write(info.files()).length,
        seconds,
        received.get() / seconds);
    // Baseline: the same number of equally large retained messages from one client.
    byte[] payload = new byte[Json.write(info.files()).length + 300];
    java.util.Arrays.fill(payload, (byte) 'x');
    MqttAsyncClient pub =
        new MqttAsyncClient(broker.url(), "bench-raw-pub", new MemoryPersistence());
    pub.connect().waitForCompletion(10_000);
    BoundedPublisher raw = new BoundedPublisher(pub, 256, 60_000);
    received.set(0);
    sub.subscribe("bench/+/assignment", 1).waitForCompletion(10_000);
    sub.setCallback(
        new Quiet() {
          @Override
          public void messageArrived(String topic, MqttMessage m) {
            received.incrementAndGet();
          }
        });
    long b0 = System.nanoTime();
    for (int i = 0; i < expected; i++) {
      raw.publish("bench/" + i + "/assignment", payload, 1, true);
    }
    while (received.get() < expected && (System.nanoTime() - b0) < 600e9) {
      Thread.sleep(20);
    }
    double baseline = (System.nanoTime() - b0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "baseline raw publish of %d retained messages: %.2f s | ratio %.1f%n",
        expected,
        baseline,
        seconds / baseline);
    for (int i = 0; i < expected; i++) {
      raw.publish("bench/" + i + "/assignment", new byte[0], 1, true);
    }
    raw.awaitIdle(60_000);
    pub.disconnect().waitForCompletion(10_000);
    pub.close();
    sub.disconnect().waitForCompletion(10_000);
    sub.close();
  }

  /** A callback that ignores everything but messages. */
  public abstract static class Quiet implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse r) {}

    @Override
    public void mqttErrorOccurred(MqttException e) {}

    @Override
    public void deliveryComplete(IMqttToken t) {}

    @Override
    public void connectComplete(boolean reconnect, String uri) {}

    @Override
    public void authPacketArrived(int code, MqttProperties p) {}
  }
}
