package io.edgeslm.fleet.bench;

import io.agroal.api.AgroalDataSource;
import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.ErrorAction;
import io.edgeslm.fleet.TestBundles;
import io.edgeslm.fleet.TestDatabases;
import io.edgeslm.fleet.Thresholds;
import io.edgeslm.fleet.Wave;
import io.edgeslm.fleet.internal.app.ControllerSettings;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.rollout.RolloutPlanRequest;
import io.edgeslm.fleet.sim.BoundedPublisher;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttSettings;
import io.edgeslm.protocol.Json;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Wave dispatch with two controller replicas, one killed mid-wave (not a test; run with {@code
 * bench/controller/dispatch-kill.sh}).
 *
 * <p>Replica A runs in this JVM, replica B in a child JVM; both share one PostgreSQL database, one
 * bundle directory and the broker. N simulated nodes register (birth and status), then B creates a
 * rollout whose first wave is all N nodes: B stores the step with its outbox rows, claimed by B for
 * the lease, and publishes them. Once a third of the nodes have their assignment, B's process is
 * killed with SIGKILL; the rows it had not yet published (and deleted) stay in the outbox until
 * their lease runs out, and A publishes them then. A subscriber on every node's assignment topic
 * counts, per node, the assignment messages and their distinct assignment ids. Reported: the time
 * from create to the last node's first assignment, how many nodes got one, two or more messages (a
 * message B published but had not yet deleted from the outbox is published again by A: at least
 * once, by design), distinct assignment ids per node (must be one), and the controller's own
 * records (retained-assignment rows, targets of the rollout, outbox rows left); against one client
 * publishing as many retained messages of the same size.
 */
public final class FleetDispatchKill {

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("replica")) {
      replica(args);
      return;
    }
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int leaseSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    double killAt = args.length > 2 ? Double.parseDouble(args[2]) : 1.0 / 3;
    Thread.currentThread().setName("soak-publisher");
    System.out.printf(
        Locale.ROOT,
        "# wave dispatch with a replica killed: %d nodes, outbox lease %d s, kill B after %.0f%%"
            + " of the nodes got their assignment, %d cores, %s%n",
        n,
        leaseSeconds,
        killAt * 100,
        Runtime.getRuntime().availableProcessors(),
        FleetSoak.uptime());
    String url = TestDatabases.newPostgresUrl();
    PGSimpleDataSource plain = new PGSimpleDataSource();
    plain.setUrl(url);
    plain.setUser(TestDatabases.PG_USER);
    TestDatabases.migrate(plain, null);
    Path bundles = Files.createTempDirectory("fleet-dispatch-kill-").resolve("bundles");
    Duration lease = Duration.ofSeconds(leaseSeconds);
    try (AgroalDataSource pool = FleetSoak.pool(url);
        MqttBroker broker =
            MqttBroker.privateMosquitto(
                MosquittoConfig.defaults()
                    .withExtraLines("max_queued_messages 1000000", "max_inflight_messages 0"))) {
      FleetController a = controller(broker.url(), "replica-a", pool, bundles, lease);
      a.start();
      a.mqtt().awaitConnected(Duration.ofSeconds(30));
      // B starts before the fleet registers, so both replicas take births and statuses live. A
      // replica that connects to a broker already holding a fleet's retained births gets them all
      // at once; see docs/benchmarks.md for what that did at 100,000 nodes.
      Path dir = Files.createTempDirectory("bench-bundle");
      Path bundle = TestBundles.signed(dir, FleetBenchmark.KEY, "phi-mini", 2, 1 << 20);
      BundleInfo info = a.catalog().upload(TestBundles.spool(bundle), "bench");
      String rid = "wave-" + System.currentTimeMillis();
      Process b =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "-Xmx2g",
                  "-XX:+UseParallelGC",
                  "-cp",
                  System.getProperty("java.class.path"),
                  FleetDispatchKill.class.getName(),
                  "replica",
                  broker.url(),
                  url,
                  bundles.toString(),
                  Integer.toString(leaseSeconds),
                  info.bundleId(),
                  Integer.toString(n),
                  rid)
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      BufferedReader fromB =
          new BufferedReader(new InputStreamReader(b.getInputStream(), StandardCharsets.UTF_8));
      PrintStream toB = new PrintStream(b.getOutputStream(), true, StandardCharsets.UTF_8);
      String line;
      while ((line = fromB.readLine()) != null && !line.equals("READY")) {
        System.out.println("B: " + line);
      }
      if (line == null) {
        throw new IllegalStateException("replica B ended before it was ready");
      }
      System.out.printf(
          Locale.ROOT, "replica B (pid %d) ready | %s%n", b.pid(), FleetSoak.uptime());
      FleetBenchmark.Fleet fleet = new FleetBenchmark.Fleet(broker.url(), n);
      fleet.births(a);
      fleet.close();
      Counts counts = new Counts();
      MqttConnection nodesSide = subscriber(broker.url(), counts);
      // Both replicas' writers idle before the wave.
      Thread.sleep(5000);

      long t0 = System.nanoTime();
      toB.println("GO");
      // Mid-wave: once the given fraction of the nodes have their assignment. B deletes its
      // step's outbox rows only when the whole batch is acknowledged, so its outbox count cannot
      // say how far it got; the nodes' side can.
      long killThreshold = (long) Math.ceil(n * killAt);
      while (counts.nodes() < killThreshold && b.isAlive()) {
        Thread.sleep(5);
      }
      double killedAt = (System.nanoTime() - t0) / 1e9;
      long nodesAtKill = counts.nodes();
      long pendingAtKill = a.outbox().pending();
      long messagesAtKill = counts.messages.get();
      boolean wasAlive = b.isAlive();
      b.destroyForcibly(); // SIGKILL: no shutdown hook, no orderly disconnect
      b.waitFor(30, TimeUnit.SECONDS);
      System.out.printf(
          Locale.ROOT,
          "killed B (SIGKILL, alive before: %s) at %.2f s with %d of its %d outbox rows left: %d"
              + " nodes had their assignment (%d messages) | %s%n",
          wasAlive,
          killedAt,
          pendingAtKill,
          n,
          nodesAtKill,
          messagesAtKill,
          FleetSoak.uptime());

      long deadline = System.nanoTime() + lease.toNanos() + TimeUnit.MINUTES.toNanos(15);
      long last = counts.nodes();
      long lastChange = System.nanoTime();
      while (counts.nodes() < n && System.nanoTime() < deadline) {
        Thread.sleep(20);
        if (counts.nodes() != last) {
          last = counts.nodes();
          lastChange = System.nanoTime();
        }
      }
      double seconds = (lastChange - t0) / 1e9;
      // Late duplicates, if any, arrive within moments of the last first assignment.
      Thread.sleep(3000);
      long pending = a.outbox().pending();
      long retained = count(pool, "SELECT COUNT(*) FROM retained_assignments");
      int targets = a.runner().get(rid).targets().size();
      int[] hist = counts.histogram();
      System.out.printf(
          Locale.ROOT,
          "dispatched: %d of %d nodes got their assignment, the last after %.2f s (killed B at"
              + " %.2f s, lease %d s) | messages %d: nodes with 1: %d, 2: %d, more: %d | distinct"
              + " assignment ids per node: max %d | republished by A after the lease: %d |"
              + " controller's records: %d targets, %d retained-assignment rows, %d outbox rows"
              + " left | %s%n",
          counts.nodes(),
          n,
          seconds,
          killedAt,
          leaseSeconds,
          counts.messages.get(),
          hist[1],
          hist[2],
          hist[3],
          counts.maxIds(),
          a.runner().republished(),
          targets,
          retained,
          pending,
          FleetSoak.uptime());
      boolean ok =
          counts.nodes() == n
              && counts.maxIds() == 1
              && targets == n
              && retained == n
              && pending == 0;
      System.out.println(
          ok
              ? "every node got its assignment, one assignment per node in the controller's records"
              : "NOT every node got exactly one assignment: see the counts above");

      int bytes = counts.size.get();
      double baseline = baselineRetained(broker.url(), nodesSide, n, bytes);
      System.out.printf(
          Locale.ROOT,
          "baseline raw publish of %d retained messages (%d bytes): %.2f s | ratio %.1f | %s%n",
          n,
          bytes,
          baseline,
          seconds / baseline,
          FleetSoak.uptime());
      nodesSide.close();
      a.close();
    }
  }

  /** Per node: assignment messages and distinct assignment ids received. */
  static final class Counts {
    final Map<String, AtomicInteger> messagesPerNode = new ConcurrentHashMap<>();
    final Map<String, Set<String>> ids = new ConcurrentHashMap<>();
    final AtomicLong messages = new AtomicLong();
    final AtomicInteger size = new AtomicInteger();

    void add(String topic, byte[] payload) {
      if (payload.length == 0) {
        return; // a clear, not an assignment
      }
      String node = topic.split("/")[3];
      messages.incrementAndGet();
      size.set(payload.length);
      messagesPerNode.computeIfAbsent(node, k -> new AtomicInteger()).incrementAndGet();
      String id;
      try {
        id = Json.mapper().readTree(payload).path("assignmentId").asText("?");
      } catch (Exception e) {
        id = "unreadable";
      }
      ids.computeIfAbsent(node, k -> ConcurrentHashMap.newKeySet()).add(id);
    }

    long nodes() {
      return messagesPerNode.size();
    }

    int maxIds() {
      int max = 0;
      for (Set<String> s : ids.values()) {
        max = Math.max(max, s.size());
      }
      return max;
    }

    /** [0] unused, [1] nodes with one message, [2] with two, [3] with more. */
    int[] histogram() {
      int[] h = new int[4];
      for (AtomicInteger c : messagesPerNode.values()) {
        h[Math.min(3, c.get())]++;
      }
      return h;
    }
  }

  /**
   * The nodes' side: one connection on the project's MQTT layer (the HiveMQ client, as the
   * controller and the agent use it) subscribed to every node's assignment topic at QoS 1.
   */
  static MqttConnection subscriber(String uri, Counts counts) throws Exception {
    MqttConnection c =
        MqttConnection.create(
            MqttSettings.builder(uri, "bench-assign-nodes")
                .session(true, Duration.ZERO)
                .receiveMaximum(65_535)
                .inboundQueueBytes(1L << 30)
                .build());
    c.subscribe("edge/v1/+/+/update/assignment", 1, m -> counts.add(m.topic(), m.payload()));
    c.start();
    if (!c.awaitConnected(Duration.ofSeconds(30))) {
      throw new IllegalStateException(
          "the assignment subscriber did not connect: " + c.lastError());
    }
    return c;
  }

  /** One client publishing {@code n} retained messages of {@code bytes}, until all arrived. */
  static double baselineRetained(String uri, MqttConnection sub, int n, int bytes)
      throws Exception {
    AtomicLong received = new AtomicLong();
    sub.subscribe(
            "bench/+/assignment",
            1,
            m -> {
              if (m.payloadSize() > 0) {
                received.incrementAndGet();
              }
            })
        .get(10, TimeUnit.SECONDS);
    byte[] payload = new byte[Math.max(1, bytes)];
    java.util.Arrays.fill(payload, (byte) 'x');
    MqttAsyncClient pub = new MqttAsyncClient(uri, "bench-raw-pub", new MemoryPersistence());
    pub.connect().waitForCompletion(10_000);
    BoundedPublisher raw = new BoundedPublisher(pub, 256, 60_000);
    long b0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      raw.publish("bench/" + i + "/assignment", payload, 1, true);
    }
    while (received.get() < n && (System.nanoTime() - b0) < 600e9) {
      Thread.sleep(20);
    }
    double seconds = (System.nanoTime() - b0) / 1e9;
    for (int i = 0; i < n; i++) {
      raw.publish("bench/" + i + "/assignment", new byte[0], 1, true);
    }
    raw.awaitIdle(120_000);
    pub.disconnect().waitForCompletion(10_000);
    pub.close();
    return seconds;
  }

  static long count(AgroalDataSource db, String sql) throws Exception {
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static FleetController controller(
      String brokerUrl, String clientId, AgroalDataSource ds, Path bundles, Duration lease)
      throws Exception {
    return new FleetController(
        ds,
        new ControllerSettings(
            brokerUrl,
            clientId,
            null,
            null,
            "fleet",
            bundles,
            256 * 1024,
            100L << 20,
            TrustStore.pinned(List.of(FleetBenchmark.KEY.verificationKey())),
            Duration.ofMillis(500),
            Duration.ofDays(7),
            200_000,
            1000,
            lease),
        Clock.systemUTC());
  }

  /**
   * Replica B: starts a controller on the shared database and bundle directory, says READY once it
   * has taken in the fleet's retained births and statuses, and on GO creates the rollout whose
   * first wave is every node. Then it publishes until it is killed.
   */
  static void replica(String[] args) throws Exception {
    String brokerUrl = args[1];
    String url = args[2];
    Path bundles = Path.of(args[3]);
    Duration lease = Duration.ofSeconds(Integer.parseInt(args[4]));
    String bundleId = args[5];
    int n = Integer.parseInt(args[6]);
    String rid = args[7];
    // The signing key is the parent's (a static of FleetBenchmark, generated per JVM): B only
    // reads the stored, already verified bundle, it does not verify an upload.
    try (AgroalDataSource pool = FleetSoak.pool(url)) {
      FleetController b = controller(brokerUrl, "replica-b", pool, bundles, lease);
      b.start();
      b.mqtt().awaitConnected(Duration.ofSeconds(30));
      // The broker sends B every retained birth and status; wait until B has written them.
      Thread.sleep(2000);
      int quiet = 0;
      while (quiet < 6) {
        Thread.sleep(500);
        quiet = b.health().queued() == 0 ? quiet + 1 : 0;
      }
      System.out.println("READY");
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      if (!"GO".equals(in.readLine())) {
        return;
      }
      b.runner()
          .create(
              rid,
              new RolloutPlanRequest(
                  null,
                  "wave to the whole fleet",
                  bundleId,
                  null,
                  List.of(Wave.count(n), Wave.percent(100).withApproval()),
                  new Thresholds(100, 0, ErrorAction.PAUSE, Duration.ofHours(1)),
                  null,
                  null),
              "bench");
      System.err.printf(Locale.ROOT, "B: created %s%n", rid);
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
