package io.edgeslm.fleet.bench;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.edgeslm.fleet.TestDatabases;
import io.edgeslm.fleet.internal.app.ControllerSettings;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.ingest.LagStats;
import io.edgeslm.fleet.internal.store.HealthTier;
import io.edgeslm.fleet.internal.store.NodeStore;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The controller's time-compressed soak (not a test; run with {@code bench/controller/soak.sh}).
 *
 * <p>N simulated nodes (multiplexed over a few MQTT connections, bounded in flight) each send a
 * health message every 30 s of real time, so the broker, the controller and PostgreSQL carry the
 * real message rate of N nodes. The controller and the nodes share a compressed clock that runs
 * {@code factor} times faster than real time, so {@code days} of history (and retention: 5-minute
 * buckets past one day, hourly ones past seven) pass in {@code minutes} of real time; each message
 * therefore stands for {@code 30 s × factor} of its node's history. Reports, over the run: p99
 * ingest lag in real milliseconds, messages dropped, the database size at the start, after day 1,
 * in the middle and at the end, the CPU time of the controller, of the database's backends and of
 * the broker per 1,000 heartbeats, and at the end the time of the fleet overview, of a node's 24 h
 * chart and of a gate evaluation over every node.
 */
public final class FleetSoak {

  /** A clock that runs {@code factor} times faster than real time from {@code start}. */
  static final class CompressedClock extends Clock {
    final Instant start;
    final double factor;
    final long startNanos = System.nanoTime();

    CompressedClock(Instant start, double factor) {
      this.start = start;
      this.factor = factor;
    }

    @Override
    public Instant instant() {
      return start.plusNanos((long) ((System.nanoTime() - startNanos) * factor));
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    // Arguments: nodes, real minutes, simulated days, and "real" (default) or "dense".
    double minutes = args.length > 1 ? Double.parseDouble(args[1]) : 40;
    double days = args.length > 2 ? Double.parseDouble(args[2]) : 7;
    double factor = days * 86_400 / (minutes * 60);
    // "real": every node sends every 30 s of real time (the message rate of the fleet, each
    // message standing for 30 s x factor of history); "dense": every 30 s of simulated time (the
    // history density of a real fleet, at factor times the message rate per node).
    boolean dense = args.length > 3 && args[3].equals("dense");
    double realHeartbeat = dense ? 30 / factor : 30;
    Thread.currentThread().setName("soak-publisher");
    System.out.printf(
        Locale.ROOT,
        "# fleet-controller soak (%s): %d nodes, one health message per node every %.3f s real"
            + " (%.0f msg/s), %.1f simulated days in %.1f real minutes (clock x%.0f: each message"
            + " stands for %.1f min), %d cores, %s%n",
        dense ? "dense" : "real rate",
        n,
        realHeartbeat,
        n / realHeartbeat,
        days,
        minutes,
        factor,
        realHeartbeat * factor / 60,
        Runtime.getRuntime().availableProcessors(),
        uptime());
    String url = TestDatabases.newPostgresUrl();
    PGSimpleDataSource plain = new PGSimpleDataSource();
    plain.setUrl(url);
    plain.setUser(TestDatabases.PG_USER);
    TestDatabases.migrate(plain, null);
    try (AgroalDataSource pool = pool(url);
        MqttBroker broker =
            MqttBroker.privateMosquitto(
                MosquittoConfig.defaults()
                    .withExtraLines("max_queued_messages 1000000", "max_inflight_messages 0"))) {
      CompressedClock clock = new CompressedClock(Instant.now(), factor);
      FleetController controller = controller(broker, pool, clock);
      controller.start();
      controller.mqtt().awaitConnected(Duration.ofSeconds(30));
      FleetBenchmark.Fleet fleet = new FleetBenchmark.Fleet(broker.url(), n, clock);
      fleet.births(controller);
      run(n, minutes, days, realHeartbeat, clock, controller, fleet, pool, broker);
      fleet.close();
      controller.close();
    }
  }

  static AgroalDataSource pool(String url) throws java.sql.SQLException {
    return AgroalDataSource.from(
        new AgroalDataSourceConfigurationSupplier()
            .connectionPoolConfiguration(
                p ->
                    p.maxSize(8)
                        .connectionFactoryConfiguration(
                            f ->
                                f.jdbcUrl(url + "?reWriteBatchedInserts=true")
                                    .principal(new NamePrincipal(TestDatabases.PG_USER)))));
  }

  static FleetController controller(MqttBroker broker, AgroalDataSource ds, Clock clock)
      throws Exception {
    Path dir = Files.createTempDirectory("fleet-soak-");
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
            TrustStore.pinned(List.of(FleetBenchmark.KEY.verificationKey())),
            Duration.ofSeconds(5),
            Duration.ofDays(7),
            200_000,
            2000,
            Duration.ofSeconds(60),
            Duration.ofDays(1),
            // Every 5 s of real time: under the compressed clock that is 5 s x factor.
            Duration.ofSeconds(5)),
        clock);
  }

  static void run(
      int n,
      double minutes,
      double days,
      double realHeartbeat,
      CompressedClock clock,
      FleetController controller,
      FleetBenchmark.Fleet fleet,
      AgroalDataSource db,
      MqttBroker broker)
      throws Exception {
    NodeStore nodes = controller.nodes();
    long brokerPid = brokerPid(broker.port());
    Cpu cpu = new Cpu(db, brokerPid);
    long size0 = databaseBytes(db);
    System.out.printf(Locale.ROOT, "database at the start (nodes registered): %s%n", mib(size0));
    controller.health().lag().reset();
    fleet.brokerLag.reset();
    long stored0 = controller.health().stored();
    long dropped0 = controller.health().dropped();
    cpu.start();
    Instant simStart = clock.instant();
    long periodNanos = (long) (1e9 * realHeartbeat / n);
    Map<String, Long> healthSizes = new java.util.LinkedHashMap<>();
    healthSizes.put("start", healthBytes(db));
    long t0 = System.nanoTime();
    long end = t0 + (long) (minutes * 60e9);
    long next = t0;
    long published = 0;
    long[] requests = new long[n];
    int i = 0;
    double nextReportDay = 0.25;
    Map<String, Long> sizes = new java.util.LinkedHashMap<>();
    sizes.put("start", size0);
    double middle = days / 2;
    boolean middleDone = false;
    boolean dayOneDone = false;
    while (System.nanoTime() < end) {
      long now = System.nanoTime();
      if (now < next) {
        // Sleep at least 1 ms and then publish what fell due, in small bursts: a simulator that
        // spins between messages would take a core from the controller it measures.
        java.util.concurrent.locks.LockSupport.parkNanos(Math.max(next - now, 1_000_000));
        continue;
      }
      next += periodNanos;
      int node = i++ % n;
      requests[node] += 10 + node % 7;
      NodeHealth h =
          new NodeHealth(
              Protocol.SCHEMA_VERSION,
              clock.instant(),
              30,
              true,
              null,
              Source.MODEL,
              FleetBenchmark.MODEL,
              15.0 + node % 10,
              700L + node % 200,
              node % 3,
              requests[node],
              requests[node] / 500,
              1L << 30,
              8L << 30,
              10L << 30,
              45.0,
              0.9);
      fleet
          .publishers
          .get(node % FleetBenchmark.CONNECTIONS)
          .publish(
              Topics.node("site-" + (node % 20), FleetBenchmark.Fleet.id(node)).health(),
              Json.write(h),
              0,
              false);
      published++;
      double day = Duration.between(simStart, clock.instant()).toSeconds() / 86_400.0;
      if (day >= nextReportDay) {
        nextReportDay += 0.25;
        long size = databaseBytes(db);
        if (!dayOneDone && day >= 1) {
          sizes.put("day 1", size);
          healthSizes.put("day 1", healthBytes(db));
          dayOneDone = true;
          partitionStats(db, "day 1");
        }
        if (!middleDone && day >= middle) {
          String key = String.format(Locale.ROOT, "day %.1f (middle)", middle);
          sizes.put(key, size);
          healthSizes.put(key, healthBytes(db));
          middleDone = true;
        }
        System.out.printf(
            Locale.ROOT,
            "day %.2f real %.1f min: published %d stored %d dropped %d queued %d | p99 lag %.0f ms"
                + " (real) | database %s, partitions 5m=%d 1h=%d | %s%n",
            day,
            (System.nanoTime() - t0) / 60e9,
            published,
            controller.health().stored() - stored0,
            controller.health().dropped() - dropped0,
            controller.health().queued(),
            realMs(controller.health().lag(), 0.99, clock.factor),
            mib(size),
            nodes.healthPartitions(HealthTier.FIVE_MINUTES).size(),
            nodes.healthPartitions(HealthTier.HOURLY).size(),
            uptime());
        cpu.sample();
      }
    }
    // The simulated clock runs on while the figures below are gathered (minutes of simulated time
    // per real second): the reads at the end look back from the last message, not from then.
    Instant lastSent = clock.instant();
    long drainUntil = System.currentTimeMillis() + 60_000;
    while (controller.health().queued() > 0 && System.currentTimeMillis() < drainUntil) {
      Thread.sleep(100);
    }
    Thread.sleep(1000);
    cpu.stop();
    long stored = controller.health().stored() - stored0;
    long dropped = controller.health().dropped() - dropped0;
    // One more retention pass at the final simulated time, as the maintenance task would make.
    nodes.pruneHealth();
    long sizeEnd = databaseBytes(db);
    sizes.put("end", sizeEnd);
    long healthEnd = healthBytes(db);
    healthSizes.put("end", healthEnd);
    LagStats lag = controller.health().lag();
    long[] dr = fleet.delayedAndRefused();
    System.out.printf(
        Locale.ROOT,
        "%nsoak: nodes=%d days=%.1f minutes=%.1f published=%d stored=%d dropped=%d"
            + " p50=%.0f ms p99=%.0f ms max=%.0f ms (real) | broker-only p99=%.0f ms |"
            + " simulator waited %d, refused %d (retried) | %s%n",
        n,
        days,
        minutes,
        published,
        stored,
        dropped,
        realMs(lag, 0.5, clock.factor),
        realMs(lag, 0.99, clock.factor),
        realMs(lag, 1.0, clock.factor),
        realMs(fleet.brokerLag, 0.99, clock.factor),
        dr[0],
        dr[1],
        uptime());
    for (var e : sizes.entrySet()) {
      System.out.printf(Locale.ROOT, "database %s: %s%n", e.getKey(), mib(e.getValue()));
    }
    Long day1 = sizes.get("day 1");
    System.out.printf(
        Locale.ROOT,
        "database size ratio end/day1=%.2f | rows: latest=%d 5m=%d 1h=%d | partitions 5m=%d 1h=%d%n",
        day1 == null ? 0 : sizeEnd / (double) day1,
        rows(db, "node_health_latest"),
        rows(db, "node_health_5m"),
        rows(db, "node_health_1h"),
        nodes.healthPartitions(HealthTier.FIVE_MINUTES).size(),
        nodes.healthPartitions(HealthTier.HOURLY).size());
    System.out.printf(
        Locale.ROOT,
        "cpu per 1000 heartbeats: controller=%.1f ms (JVM GC/JIT besides: %.1f ms)"
            + " postgres-backends=%.1f ms broker=%.1f ms | ratio controller/broker=%.2f |"
            + " simulator=%.1f ms%n",
        cpu.controllerMs * 1000.0 / stored,
        cpu.jvmOtherMs * 1000.0 / stored,
        cpu.postgresMs * 1000.0 / stored,
        cpu.brokerMs * 1000.0 / published,
        (cpu.controllerMs / (double) stored) / (cpu.brokerMs / (double) published),
        cpu.simulatorMs * 1000.0 / published);
    for (var e : healthSizes.entrySet()) {
      System.out.printf(
          Locale.ROOT,
          "health tables %s: %s (%.0f bytes per node)%n",
          e.getKey(),
          mib(e.getValue()),
          e.getValue() / (double) n);
    }
    Long healthDay1 = healthSizes.get("day 1");
    System.out.printf(
        Locale.ROOT,
        "health size ratio end/day1=%.2f (bytes per node: day 1 %.0f, end %.0f)%n",
        healthDay1 == null ? 0 : healthEnd / (double) healthDay1,
        healthDay1 == null ? 0 : healthDay1 / (double) n,
        healthEnd / (double) n);
    partitionStats(db, "end");
    readTimings(nodes, n, lastSent);
  }

  /**
   * Bytes of the health tables (latest, every partition of both tiers, their indexes and TOAST):
   * what grows with nodes and history, without the fixed size of an empty database.
   */
  static long healthBytes(AgroalDataSource db) throws Exception {
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT COALESCE(SUM(pg_total_relation_size(oid)), 0) FROM pg_class"
                    + " WHERE relkind = 'r' AND relname LIKE 'node\\_health\\_%'"
                    + " AND relnamespace = current_schema()::regnamespace")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Per table and partition of the health tiers: live and dead row versions, rows inserted and
   * updated (of those, heap-only), total size and bytes per live row, and how often (auto)vacuum
   * ran; then the totals per tier. From PostgreSQL's statistics, which lag a second or so.
   */
  static void partitionStats(AgroalDataSource db, String when) throws Exception {
    Map<String, long[]> tiers = new java.util.TreeMap<>();
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT c.relname, s.n_live_tup, s.n_dead_tup, s.n_tup_ins, s.n_tup_upd,"
                    + " s.n_tup_hot_upd, pg_total_relation_size(c.oid), s.autovacuum_count,"
                    + " s.vacuum_count FROM pg_class c JOIN pg_stat_user_tables s ON s.relid ="
                    + " c.oid WHERE c.relkind = 'r' AND c.relname LIKE 'node\\_health\\_%'"
                    + " AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname")) {
      while (rs.next()) {
        String name = rs.getString(1);
        long live = rs.getLong(2);
        long dead = rs.getLong(3);
        long bytes = rs.getLong(7);
        System.out.printf(
            Locale.ROOT,
            "partition %s %s: live %d dead %d | inserted %d updated %d (hot %d) | %d bytes"
                + " (%.0f per live row) | autovacuum %d vacuum %d%n",
            when,
            name,
            live,
            dead,
            rs.getLong(4),
            rs.getLong(5),
            rs.getLong(6),
            bytes,
            live == 0 ? 0 : bytes / (double) live,
            rs.getLong(8),
            rs.getLong(9));
        String tier =
            name.startsWith("node_health_5m")
                ? "5m"
                : name.startsWith("node_health_1h") ? "1h" : name.substring(12);
        long[] t = tiers.computeIfAbsent(tier, k -> new long[5]);
        t[0] += live;
        t[1] += dead;
        t[2] += bytes;
        t[3] += rs.getLong(5);
        t[4]++;
      }
    }
    for (var e : tiers.entrySet()) {
      long[] t = e.getValue();
      System.out.printf(
          Locale.ROOT,
          "tier %s %s: %d tables, live %d dead %d updated %d, %s (%.0f bytes per live row)%n",
          when,
          e.getKey(),
          t[4],
          t[0],
          t[1],
          t[3],
          mib(t[2]),
          t[0] == 0 ? 0 : t[2] / (double) t[0]);
    }
  }

  /** Times the reads an operator and the rollout engine make, at the end of the soak. */
  static void readTimings(NodeStore nodes, int n, Instant now) throws Exception {
    long t = System.nanoTime();
    Map<String, Long> byStatus = nodes.countByStatus();
    Map<String, Long> byModel = nodes.countByModel();
    double overview = (System.nanoTime() - t) / 1e6;
    String node = FleetBenchmark.Fleet.id(n / 2);
    t = System.nanoTime();
    int points =
        nodes.health(node, now.minus(Duration.ofHours(24)), now.plusSeconds(60), 2000).size();
    double chart = (System.nanoTime() - t) / 1e6;
    // A gate over a wave: per node, the new model since install (the last 30 minutes) and the old
    // one in the hour before, two reads each, as the engine makes them. The engine reads node by
    // node, so a wave of W nodes costs W times this; timed over up to 5,000 nodes spread over the
    // fleet.
    String digest = FleetBenchmark.MODEL.digest();
    int wave = Math.min(n, 5000);
    t = System.nanoTime();
    int measured = 0;
    for (int k = 0; k < wave; k++) {
      String id = FleetBenchmark.Fleet.id((int) ((long) k * n / wave));
      if (nodes.metrics(id, digest, now.minus(Duration.ofMinutes(30)), now).isPresent()) {
        measured++;
      }
      nodes.metrics(
          id, digest, now.minus(Duration.ofMinutes(90)), now.minus(Duration.ofMinutes(30)));
    }
    double gate = (System.nanoTime() - t) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "reads at the end: fleet overview %.1f ms (%s, %d models) | 24 h chart of %s %.1f ms"
            + " (%d points) | gate over %d nodes %.1f s (%d with data, %.2f ms per node, %.0f s for"
            + " all %d) | %s%n",
        overview,
        byStatus,
        byModel.size(),
        node,
        chart,
        points,
        wave,
        gate,
        measured,
        gate * 1000 / wave,
        gate * n / wave,
        n,
        uptime());
  }

  static double realMs(LagStats lag, double q, double factor) {
    return lag.quantile(q) / factor;
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }

  static long databaseBytes(AgroalDataSource db) throws Exception {
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT pg_database_size(current_database())")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static long rows(AgroalDataSource db, String table) throws Exception {
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static String uptime() {
    try {
      String s = Files.readString(Path.of("/proc/loadavg")).trim();
      return "load " + s.substring(0, s.indexOf(' ', s.indexOf(' ', s.indexOf(' ') + 1) + 1));
    } catch (Exception e) {
      return "load ?";
    }
  }

  static long brokerPid(int port) throws Exception {
    Process p = new ProcessBuilder("ss", "-Hltnp", "sport = :" + port).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(10, TimeUnit.SECONDS);
    Matcher m = Pattern.compile("pid=(\\d+)").matcher(out);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  /** CPU time (ms) of a process from /proc/{pid}/stat (user + system), or -1 if it is gone. */
  static long procCpuMs(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // Fields 14 and 15 of stat (utime, stime), counted from the state field (3) on.
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000 / 100;
    } catch (Exception e) {
      return -1;
    }
  }

  /**
   * CPU accounting over the measured part of the soak. The controller's share is the CPU time of
   * this JVM's threads except the simulator's (its publisher and its MQTT clients' threads); GC and
   * JIT threads are reported apart. PostgreSQL's is the CPU time of the backends connected to the
   * soak's database (sampled during the run, so short-lived ones such as autovacuum workers count
   * from the sample they were first seen in). The broker's is its process's.
   */
  static final class Cpu {
    final AgroalDataSource db;
    final long brokerPid;
    final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    final Map<Long, Long> pgFirst = new HashMap<>();
    final Map<Long, Long> pgLast = new HashMap<>();
    long controller0;
    long simulator0;
    long process0;
    long broker0;
    long controllerMs;
    long simulatorMs;
    long jvmOtherMs;
    long postgresMs;
    long brokerMs;

    Cpu(AgroalDataSource db, long brokerPid) {
      this.db = db;
      this.brokerPid = brokerPid;
    }

    long[] javaThreads() {
      long controller = 0;
      long simulator = 0;
      long[] ids = threads.getAllThreadIds();
      ThreadInfo[] infos = threads.getThreadInfo(ids);
      for (int i = 0; i < ids.length; i++) {
        if (infos[i] == null) {
          continue;
        }
        long ns = threads.getThreadCpuTime(ids[i]);
        if (ns < 0) {
          continue;
        }
        String name = infos[i].getThreadName();
        if (name.contains("bench-fleet")
            || name.contains("bench-observer")
            || name.startsWith("soak")) {
          simulator += ns;
        } else {
          controller += ns;
        }
      }
      return new long[] {controller / 1_000_000, simulator / 1_000_000};
    }

    long processMs() {
      return ((com.sun.management.OperatingSystemMXBean)
                  ManagementFactory.getOperatingSystemMXBean())
              .getProcessCpuTime()
          / 1_000_000;
    }

    void start() throws Exception {
      long[] j = javaThreads();
      controller0 = j[0];
      simulator0 = j[1];
      process0 = processMs();
      broker0 = procCpuMs(brokerPid);
      sample();
      pgFirst.putAll(pgLast);
    }

    void sample() throws Exception {
      List<Long> pids = new ArrayList<>();
      try (Connection c = db.getConnection();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT pid FROM pg_stat_activity WHERE datname = current_database()");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          pids.add(rs.getLong(1));
        }
      }
      for (long pid : pids) {
        long ms = procCpuMs(pid);
        if (ms >= 0) {
          pgFirst.putIfAbsent(pid, ms);
          pgLast.put(pid, ms);
        }
      }
    }

    void stop() throws Exception {
      sample();
      long[] j = javaThreads();
      controllerMs = j[0] - controller0;
      simulatorMs = j[1] - simulator0;
      jvmOtherMs = Math.max(0, processMs() - process0 - controllerMs - simulatorMs);
      brokerMs = procCpuMs(brokerPid) - broker0;
      long pg = 0;
      for (var e : pgLast.entrySet()) {
        pg += e.getValue() - pgFirst.getOrDefault(e.getKey(), 0L);
      }
      postgresMs = pg;
    }
  }
}
