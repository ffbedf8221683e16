package io.edgeslm.fleet.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.fleet.AuditEvent;
import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.FleetNode;
import io.edgeslm.fleet.InstallResult;
import io.edgeslm.fleet.ModelMetrics;
import io.edgeslm.fleet.NodeSelector;
import io.edgeslm.fleet.Role;
import io.edgeslm.fleet.RolloutAction;
import io.edgeslm.fleet.RolloutEngine;
import io.edgeslm.fleet.RolloutPlan;
import io.edgeslm.fleet.RolloutState;
import io.edgeslm.fleet.RolloutStep;
import io.edgeslm.fleet.Wave;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.JournalBatch;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdateResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store's behaviour, run against PostgreSQL and H2 by the subclasses. */
abstract class StoreContract {

  static final ModelRef OLD = ModelRef.of("phi-mini", 3, "sha256:" + "a".repeat(64));
  static final ModelRef NEW = ModelRef.of("phi-mini", 4, "sha256:" + "b".repeat(64));
  static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");

  NodeStore nodes;
  RolloutStore rollouts;
  CatalogStore catalog;
  TokenStore tokens;
  OutboxStore outbox;
  Db db;

  final TestClock clock = new TestClock(T0.plusSeconds(3600));

  abstract DataSource freshDatabase();

  /** A new database without any migration applied. */
  abstract DataSource emptyDatabase();

  @BeforeEach
  void open() throws Exception {
    db = new Db(freshDatabase());
    outbox = new OutboxStore(db);
    nodes = new NodeStore(db, HealthHistory.Retention.DEFAULT, clock);
    rollouts = new RolloutStore(db);
    catalog = new CatalogStore(db);
    tokens = new TokenStore(db);
  }

  static NodeBirth birth(ModelRef model, Map<String, String> labels, Instant at) {
    return new NodeBirth(
        Protocol.SCHEMA_VERSION, "0.1.0", "amd64", "gw-8g", 8L << 30, labels, model, null, at, at);
  }

  static NodeHealth health(ModelRef model, Instant at, long requests, long errors, double tps) {
    return new NodeHealth(
        Protocol.SCHEMA_VERSION,
        at,
        30,
        true,
        null,
        Source.MODEL,
        model,
        tps,
        700L,
        0,
        requests,
        errors,
        1L << 30,
        8L << 30,
        10L << 30,
        null,
        0.9);
  }

  @Test
  void recordBirth_thenOlderBirth_keepsTheNewerFacts() throws Exception {
    nodes.recordBirth("plant-1", "gw-1", birth(NEW, Map.of("line", "a"), T0.plusSeconds(60)), T0);
    nodes.recordBirth("plant-1", "gw-1", birth(OLD, Map.of("line", "b"), T0), T0.plusSeconds(61));

    NodeRow row = nodes.node("gw-1").orElseThrow();
    assertThat(row.model().digest()).isEqualTo(NEW.digest());
    assertThat(row.labels()).containsExactly(Map.entry("line", "a"));
    assertThat(row.status()).isEqualTo("unknown");
  }

  @Test
  void recordStatus_willWithoutTime_marksOfflineAtReceipt() throws Exception {
    nodes.recordStatus("plant-1", "gw-1", NodeStatus.online(T0), T0);
    nodes.recordStatus("plant-1", "gw-1", NodeStatus.will(), T0.plusSeconds(100));
    NodeRow row = nodes.node("gw-1").orElseThrow();
    assertThat(row.status()).isEqualTo("offline");
    assertThat(row.statusReason()).isEqualTo("connection lost");
    assertThat(row.statusSince()).isEqualTo(T0.plusSeconds(100));
    assertThat(nodes.countByStatus()).containsExactly(Map.entry("offline", 1L));
  }

  @Test
  void recordHealth_redelivered_isCountedOnceAndAggregates() throws Exception {
    List<HealthSample> batch = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      batch.add(
          new HealthSample(
              "plant-1",
              "gw-1",
              health(NEW, T0.plusSeconds(30L * i), 100L * i, 2L * i, 10 + i),
              T0.plusSeconds(30L * i + 1)));
    }
    nodes.recordHealth(batch);
    nodes.recordHealth(batch.subList(2, 5));
    nodes.recordHealth(List.of(batch.get(1), batch.get(1)));

    List<HealthPoint> points = nodes.health("gw-1", T0, T0.plusSeconds(3600), 100);
    assertThat(points).hasSize(1);
    assertThat(points.get(0).samples()).isEqualTo(5);
    assertThat(points.get(0).at()).isEqualTo(T0.plusSeconds(120));
    assertThat(points.get(0).tokensPerSecond()).isEqualTo(12.0);
    assertThat(points.get(0).requests()).isEqualTo(400);
    ModelMetrics m = nodes.metrics("gw-1", NEW.digest(), T0, T0.plusSeconds(3600)).orElseThrow();
    assertThat(m.samples()).isEqualTo(5);
    assertThat(m.tokensPerSecond()).isEqualTo(12.0);
    assertThat(m.p95LatencyMs()).isEqualTo(700.0);
    assertThat(m.errorRate()).isEqualTo(0.02);
    assertThat(m.activationScore()).isEqualTo(0.9);
    assertThat(nodes.metrics("gw-1", OLD.digest(), T0, T0.plusSeconds(3600))).isEmpty();
    assertThat(nodes.node("gw-1").orElseThrow().lastHealthAt()).isEqualTo(T0.plusSeconds(120));
    HealthPoint latest = nodes.latestHealth("gw-1").orElseThrow();
    assertThat(latest.at()).isEqualTo(T0.plusSeconds(120));
    assertThat(latest.requests()).isEqualTo(400);
    assertThat(latest.tokensPerSecond()).isEqualTo(14.0);
  }

  @Test
  void recordHealth_olderMessageAfterNewer_keepsTheNewerAsLatest() throws Exception {
    nodes.recordHealth(List.of(sample("gw-1", NEW, T0.plusSeconds(60), 50, 20)));
    nodes.recordHealth(List.of(sample("gw-1", NEW, T0, 10, 11)));
    assertThat(nodes.latestHealth("gw-1").orElseThrow().requests()).isEqualTo(50);
    assertThat(count("node_health_latest")).isEqualTo(1);
  }

  /**
   * One batch with several messages of one node in one bucket, a node first heard of by its health,
   * a node whose birth is in the same batch and a node whose stored health is newer: each node's
   * row takes the batch's newest message once, a new node is created from it, and a stored newer
   * message is not overwritten (not its readiness, not its time).
   */
  @Test
  void recordBatch_manyMessagesPerNodeAndNewNodes_oneRowUpdatePerNodeGuardedByTime()
      throws Exception {
    nodes.recordHealth(List.of(sample("gw-late", NEW, T0.plusSeconds(600), 500, 20)));
    List<HealthSample> batch = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      batch.add(sample("gw-busy", NEW, T0.plusSeconds(30L * i), 10L * i, 10 + i));
    }
    batch.add(sample("gw-new", NEW, T0.plusSeconds(15), 5, 9));
    batch.add(sample("gw-born", NEW, T0.plusSeconds(20), 7, 9));
    NodeHealth notReady =
        new NodeHealth(
            Protocol.SCHEMA_VERSION,
            T0.plusSeconds(300),
            30,
            false,
            null,
            Source.MODEL,
            NEW,
            1.0,
            700L,
            0,
            1,
            0,
            1L << 30,
            8L << 30,
            10L << 30,
            null,
            0.9);
    batch.add(new HealthSample("plant-2", "gw-late", notReady, T0.plusSeconds(301)));
    nodes.recordBatch(
        List.of(new BirthEvent("plant-1", "gw-born", birth(NEW, Map.of("line", "c"), T0), T0)),
        List.of(),
        batch);

    NodeRow busy = nodes.node("gw-busy").orElseThrow();
    assertThat(busy.lastHealthAt()).isEqualTo(T0.plusSeconds(90));
    assertThat(busy.lastSeenAt()).isEqualTo(T0.plusSeconds(91));
    assertThat(busy.firstSeenAt()).isEqualTo(T0.plusSeconds(1));
    assertThat(busy.ready()).isTrue();
    assertThat(busy.site()).isEqualTo("plant-1");
    assertThat(busy.status()).isEqualTo("unknown");
    List<HealthPoint> points = nodes.health("gw-busy", T0, T0.plusSeconds(3600), 100);
    assertThat(points).hasSize(1);
    assertThat(points.get(0).samples()).isEqualTo(4);
    assertThat(points.get(0).requests()).isEqualTo(30);
    assertThat(nodes.latestHealth("gw-busy").orElseThrow().at()).isEqualTo(T0.plusSeconds(90));

    assertThat(nodes.node("gw-new").orElseThrow().lastHealthAt()).isEqualTo(T0.plusSeconds(15));
    NodeRow born = nodes.node("gw-born").orElseThrow();
    assertThat(born.labels()).containsExactly(Map.entry("line", "c"));
    assertThat(born.lastHealthAt()).isEqualTo(T0.plusSeconds(20));
    assertThat(born.ready()).isTrue();

    NodeRow late = nodes.node("gw-late").orElseThrow();
    assertThat(late.lastHealthAt()).isEqualTo(T0.plusSeconds(600));
    assertThat(late.ready()).isTrue();
    assertThat(late.site()).isEqualTo("plant-1");
    assertThat(nodes.latestHealth("gw-late").orElseThrow().requests()).isEqualTo(500);
    assertThat(count("nodes")).isEqualTo(4);
  }

  static HealthSample sample(String node, ModelRef model, Instant at, long requests, double tps) {
    return new HealthSample(
        "plant-1", node, health(model, at, requests, requests / 50, tps), at.plusSeconds(1));
  }

  /**
   * A day of messages every 30 s, the model switching at noon: what the gates and the chart read
   * from the 5-minute buckets (and, two days later, from the hourly ones) equals what the messages
   * themselves give over the same bucket-aligned windows.
   */
  @Test
  void healthHistory_aDayOfMessages_gatesAndChartReadWhatTheMessagesSay() throws Exception {
    Instant day = Instant.parse("2026-03-02T00:00:00Z");
    clock.set(day.plusSeconds(86_400));
    List<HealthSample> all = new ArrayList<>();
    for (int i = 0; i < 2880; i++) {
      Instant at = day.plusSeconds(30L * i);
      ModelRef model = i < 1440 ? OLD : NEW;
      all.add(
          new HealthSample(
              "plant-1",
              "gw-1",
              health(model, at, 1000 + 10L * i, i / 7, 5 + (i % 13) * 0.5),
              at.plusSeconds(1)));
    }
    for (int i = 0; i < all.size(); i += 500) {
      nodes.recordHealth(all.subList(i, Math.min(all.size(), i + 500)));
    }
    Instant[][] windows = {
      {day.plusSeconds(3600), day.plusSeconds(7200)},
      {day.plusSeconds(11 * 3600), day.plusSeconds(13 * 3600)},
      {day.plusSeconds(12 * 3600 + 300), day.plusSeconds(12 * 3600 + 1800)},
      {day, day.plusSeconds(86_400)}
    };
    for (Instant[] w : windows) {
      for (ModelRef model : List.of(OLD, NEW)) {
        assertThat(nodes.metrics("gw-1", model.digest(), w[0], w[1]))
            .as("%s over %s..%s", model.version(), w[0], w[1])
            .isEqualTo(fromMessages(all, model, w[0], w[1]));
      }
    }
    List<HealthPoint> chart = nodes.health("gw-1", day, day.plusSeconds(86_400 + 60), 2000);
    assertThat(chart).hasSize(288);
    assertThat(chart.get(0).at()).isEqualTo(day.plusSeconds(86_400 - 30));
    assertThat(chart.get(287).samples()).isEqualTo(10);
    assertThat(chart.get(287).tokensPerSecond())
        .isEqualTo(
            fromMessages(all, OLD, day, day.plusSeconds(300)).orElseThrow().tokensPerSecond());

    // Two days later the 5-minute buckets of that day are gone; hourly ones answer, per hour.
    clock.set(day.plusSeconds(3 * 86_400));
    nodes.pruneHealth();
    assertThat(nodes.health("gw-1", day, day.plusSeconds(86_400), 2000)).hasSize(24);
    for (Instant[] w : windows) {
      if (w[0].getEpochSecond() % 3600 == 0 && w[1].getEpochSecond() % 3600 == 0) {
        for (ModelRef model : List.of(OLD, NEW)) {
          assertThat(nodes.metrics("gw-1", model.digest(), w[0], w[1]))
              .isEqualTo(fromMessages(all, model, w[0], w[1]));
        }
      }
    }
  }

  /** What the messages in [from, to) of one model say, computed from the messages one by one. */
  static java.util.Optional<ModelMetrics> fromMessages(
      List<HealthSample> all, ModelRef model, Instant from, Instant to) {
    int n = 0;
    double tps = 0;
    double p95 = 0;
    long req0 = Long.MAX_VALUE;
    long req1 = Long.MIN_VALUE;
    long err0 = Long.MAX_VALUE;
    long err1 = Long.MIN_VALUE;
    Double score = null;
    for (HealthSample s : all) {
      NodeHealth h = s.health();
      if (!h.model().equals(model) || h.at().isBefore(from) || !h.at().isBefore(to)) {
        continue;
      }
      n++;
      tps += h.tokensPerSecond();
      p95 += h.p95LatencyMs();
      req0 = Math.min(req0, h.requests());
      req1 = Math.max(req1, h.requests());
      err0 = Math.min(err0, h.errors());
      err1 = Math.max(err1, h.errors());
      score = score == null ? h.activationScore() : Math.min(score, h.activationScore());
    }
    if (n == 0) {
      return java.util.Optional.empty();
    }
    long requests = req1 - req0;
    return java.util.Optional.of(
        new ModelMetrics(
            n, tps / n, p95 / n, requests > 0 ? (double) (err1 - err0) / requests : null, score));
  }

  /**
   * Retention removes whole periods: on PostgreSQL the partitions (an hour of 5-minute buckets, a
   * day of hourly ones) past retention are dropped and nothing else; on H2 the same periods are
   * deleted. What is kept reads as before.
   */
  @Test
  void pruneHealth_pastRetention_removesWholePeriodsAndKeepsTheRest() throws Exception {
    Instant start = Instant.parse("2026-03-01T00:00:00Z");
    for (int d = 0; d < 9; d++) {
      for (int h = 0; h < 24; h += 6) {
        Instant at = start.plusSeconds(d * 86_400L + h * 3600L + 90);
        clock.set(at.plusSeconds(60));
        nodes.recordHealth(List.of(sample("gw-1", NEW, at, 100L * (d * 24 + h), 10)));
      }
    }
    Instant now = start.plusSeconds(8 * 86_400L + 18 * 3600L + 150);
    clock.set(now);
    if (db.postgres()) {
      assertThat(nodes.healthPartitions(HealthTier.HOURLY)).hasSize(9);
      assertThat(nodes.healthPartitions(HealthTier.FIVE_MINUTES)).hasSize(36);
    }

    HealthHistory.Pruned pruned = nodes.pruneHealth();

    if (db.postgres()) {
      // Hourly history: P7D back from now is day 1 18:00, so day 0's partition goes, day 1 stays.
      assertThat(nodes.healthPartitions(HealthTier.HOURLY))
          .containsExactly(
              "node_health_1h_20260302",
              "node_health_1h_20260303",
              "node_health_1h_20260304",
              "node_health_1h_20260305",
              "node_health_1h_20260306",
              "node_health_1h_20260307",
              "node_health_1h_20260308",
              "node_health_1h_20260309");
      // 5-minute detail: P1D back is day 7 18:00; the partitions of day 7 18:00 onwards stay.
      assertThat(nodes.healthPartitions(HealthTier.FIVE_MINUTES))
          .containsExactly(
              "node_health_5m_2026030818",
              "node_health_5m_2026030900",
              "node_health_5m_2026030906",
              "node_health_5m_2026030912",
              "node_health_5m_2026030918");
      assertThat(pruned.partitionsDropped()).isEqualTo(1 + 31);
      assertThat(pruned.rowsDeleted()).isZero();
    } else {
      assertThat(pruned.rowsDeleted()).isEqualTo(4 + 31);
    }
    assertThat(nodes.metrics("gw-1", NEW.digest(), start, start.plusSeconds(86_400))).isEmpty();
    assertThat(
            nodes
                .metrics("gw-1", NEW.digest(), start.plusSeconds(86_400), now)
                .orElseThrow()
                .samples())
        .isEqualTo(32);
    assertThat(nodes.health("gw-1", now.minusSeconds(86_400), now, 100)).hasSize(5);
    assertThat(nodes.pruneHealth()).isEqualTo(new HealthHistory.Pruned(0, 0));
  }

  @Test
  void recordHealth_tooOldOrTooFarAhead_staysOutOfHistoryButIsTheLatest() throws Exception {
    clock.set(T0);
    nodes.recordHealth(List.of(sample("gw-1", NEW, T0.minusSeconds(8 * 86_400), 1, 10)));
    assertThat(nodes.health("gw-1", T0.minusSeconds(9 * 86_400), T0, 100)).isEmpty();
    nodes.recordHealth(List.of(sample("gw-1", NEW, T0.plusSeconds(7200), 2, 10)));
    assertThat(nodes.health("gw-1", T0, T0.plusSeconds(9000), 100)).isEmpty();
    assertThat(nodes.latestHealth("gw-1").orElseThrow().requests()).isEqualTo(2);
  }

  /**
   * Messages every 30 s from 10:00 to 12:30 of one node, the model switching at 10:41 (inside a
   * 5-minute bucket), each batch written while its hour is open: no batch writes the hourly tier.
   */
  List<HealthSample> twoAndAHalfHours(NodeStore store) throws Exception {
    List<HealthSample> all = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      Instant at = T0.plusSeconds(30L * i);
      all.add(
          new HealthSample(
              "plant-1",
              "gw-1",
              health(i < 82 ? OLD : NEW, at, 1000 + 10L * i, i / 7, 5 + (i % 13) * 0.5),
              at.plusSeconds(1)));
    }
    for (int i = 0; i < all.size(); i += 5) {
      clock.set(all.get(i).health().at().plusSeconds(2));
      store.recordHealth(all.subList(i, i + 5));
    }
    return all;
  }

  /** The stored buckets of a tier for gw-1, in key order. */
  List<HealthBucket> stored(HealthTier tier) throws Exception {
    List<HealthBucket> out =
        new ArrayList<>(
            db.run(
                "test",
                c ->
                    HealthHistory.bucketRows(
                        c, tier, "gw-1", Instant.EPOCH, Instant.parse("2100-01-01T00:00:00Z"), 0)));
    out.sort(java.util.Comparator.comparing(HealthBucket::key));
    return out;
  }

  /** The hourly buckets the 5-minute ones make, merged as the roll-up merges them, in key order. */
  List<HealthBucket> hoursOfDetail() throws Exception {
    java.util.TreeMap<String, HealthBucket> hours = new java.util.TreeMap<>();
    for (HealthBucket b : stored(HealthTier.FIVE_MINUTES)) {
      HealthBucket h = b.in(HealthTier.HOURLY);
      hours.merge(h.key(), h, HealthBucket::merge);
    }
    return List.copyOf(hours.values());
  }

  /**
   * When an hour has closed (5 minutes after its end), the maintenance pass writes its hourly rows
   * once, from its 5-minute buckets; they equal what merging every message into the hour gives (the
   * write path until V4) and what the 5-minute buckets add up to. Before that the batches wrote no
   * hourly row. The open hour is not rolled up.
   */
  @Test
  void rollUp_afterTheHourCloses_writesEachHourlyRowOnceFromItsFiveMinuteBuckets()
      throws Exception {
    List<HealthSample> all = twoAndAHalfHours(nodes);
    assertThat(count("node_health_1h")).as("hourly rows written by batches").isZero();
    assertThat(count("node_health_5m")).isEqualTo(30 + 1);

    clock.set(T0.plusSeconds(2 * 3600 + 299));
    assertThat(nodes.rollUpHealth()).as("10:00 closed at 11:05, 11:00 not yet").isEqualTo(1);
    clock.set(T0.plusSeconds(2 * 3600 + 300));
    assertThat(nodes.rollUpHealth()).isEqualTo(1);
    assertThat(nodes.rollUpHealth()).isZero();

    List<HealthBucket> closed =
        HealthBucket.aggregate(
            HealthTier.HOURLY,
            all.stream().filter(s -> s.health().at().isBefore(T0.plusSeconds(7200))).toList());
    assertThat(closed).hasSize(3); // 10:00 old and new model, 11:00 new
    assertThat(stored(HealthTier.HOURLY)).isEqualTo(closed);
    assertThat(stored(HealthTier.HOURLY)).isEqualTo(hoursOfDetail().subList(0, 3));
    assertThat(nodes.pruneHealth()).isEqualTo(new HealthHistory.Pruned(0, 0));
    assertThat(count("node_health_1h")).isEqualTo(3);
  }

  /**
   * A chart and a gate over the hourly tier across closed hours and the open one answer the same
   * before the roll-up (every hour from its 5-minute buckets), after it (closed hours from their
   * hourly rows, the open one from its 5-minute buckets) and as the messages say.
   */
  @Test
  void hourlyReads_acrossClosedAndOpenHours_answerTheSameBeforeAndAfterTheRollUp()
      throws Exception {
    List<HealthSample> all = twoAndAHalfHours(nodes);
    Instant now = T0.plusSeconds(2 * 3600 + 1800);
    clock.set(now);
    // From two days back: older than the detail retention, so the hourly tier answers.
    Instant from = now.minusSeconds(2 * 86_400);
    Instant[] ends = {now, T0.plusSeconds(7200), T0.plusSeconds(5400), now.plusSeconds(3600)};
    List<List<HealthPoint>> charts = new ArrayList<>();
    List<List<java.util.Optional<ModelMetrics>>> gates = new ArrayList<>();
    for (int pass = 0; pass < 2; pass++) {
      List<HealthPoint> chart = nodes.health("gw-1", from, now, 100);
      charts.add(chart);
      List<java.util.Optional<ModelMetrics>> gate = new ArrayList<>();
      for (Instant to : ends) {
        for (ModelRef model : List.of(OLD, NEW)) {
          gate.add(nodes.metrics("gw-1", model.digest(), from, to));
        }
      }
      gates.add(gate);
      if (pass == 0) {
        assertThat(count("node_health_1h")).isZero();
        assertThat(nodes.rollUpHealth()).isEqualTo(2);
        assertThat(count("node_health_1h")).isEqualTo(3);
      }
    }
    assertThat(charts.get(1)).isEqualTo(charts.get(0));
    assertThat(gates.get(1)).isEqualTo(gates.get(0));

    // Newest first: 12:00 (open), 11:00, 10:00 of the new model, 10:00 of the old one.
    List<HealthPoint> chart = charts.get(1);
    assertThat(chart).extracting(HealthPoint::samples).containsExactly(60, 120, 38, 82);
    assertThat(chart.get(0).at()).isEqualTo(T0.plusSeconds(30L * 299));
    assertThat(chart.get(0).modelDigest()).isEqualTo(NEW.digest());
    assertThat(chart.get(3).modelDigest()).isEqualTo(OLD.digest());
    assertThat(chart.get(0).requests()).isEqualTo(1000 + 10L * 299);
    // Whole hours: an hour that starts before the window's end counts whole.
    for (int i = 0; i < ends.length; i++) {
      Instant to = HealthTier.HOURLY.bucket(ends[i]);
      Instant end = to.equals(ends[i]) ? to : to.plusSeconds(3600);
      assertThat(gates.get(1).get(2 * i)).isEqualTo(fromMessages(all, OLD, T0, end));
      assertThat(gates.get(1).get(2 * i + 1)).isEqualTo(fromMessages(all, NEW, T0, end));
    }
  }

  /**
   * A message that arrives after its hour was rolled up is merged into the hourly row directly (and
   * into its 5-minute bucket): the hourly tier still equals the messages; a redelivered one changes
   * nothing.
   */
  @Test
  void rollUp_messageArrivingAfterItsHourClosed_isMergedIntoTheHourlyRow() throws Exception {
    List<HealthSample> all = new ArrayList<>(twoAndAHalfHours(nodes));
    clock.set(T0.plusSeconds(3 * 3600));
    assertThat(nodes.rollUpHealth()).isEqualTo(2);
    // 11:59:45, newer than 11:00's newest (11:59:30), four hours late.
    HealthSample late = sample("gw-1", NEW, T0.plusSeconds(7185), 5000, 20);
    clock.set(T0.plusSeconds(4 * 3600));
    nodes.recordHealth(List.of(late));
    nodes.recordHealth(List.of(late));
    all.add(late);

    List<HealthBucket> hourly = stored(HealthTier.HOURLY);
    assertThat(hourly)
        .isEqualTo(
            HealthBucket.aggregate(
                HealthTier.HOURLY,
                all.stream().filter(s -> s.health().at().isBefore(T0.plusSeconds(7200))).toList()));
    assertThat(hourly.get(2).samples()).isEqualTo(121);
    assertThat(hourly).isEqualTo(hoursOfDetail().subList(0, 3));
  }

  /**
   * The roll-up keeps no state in memory: a controller restarted in the middle of an hour (a new
   * store on the same database, as after a restart or on another replica) rolls it up whole, with
   * the messages written before and after the restart.
   */
  @Test
  void rollUp_controllerRestartedMidHour_losesNoMessage() throws Exception {
    List<HealthSample> all = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      Instant at = T0.plusSeconds(30L * i);
      all.add(sample("gw-1", NEW, at, 10L * i, 5 + (i % 4)));
    }
    for (int i = 0; i < 60; i++) {
      clock.set(all.get(i).health().at().plusSeconds(1));
      nodes.recordHealth(List.of(all.get(i)));
    }
    NodeStore restarted = new NodeStore(db, HealthHistory.Retention.DEFAULT, clock);
    for (int i = 60; i < 120; i++) {
      clock.set(all.get(i).health().at().plusSeconds(1));
      restarted.recordHealth(List.of(all.get(i)));
    }
    clock.set(T0.plusSeconds(3600 + 300));
    assertThat(restarted.pruneHealth().partitionsDropped()).isZero();
    assertThat(stored(HealthTier.HOURLY))
        .isEqualTo(HealthBucket.aggregate(HealthTier.HOURLY, all))
        .extracting(HealthBucket::samples)
        .containsExactly(120);
    assertThat(nodes.rollUpHealth()).as("the other store finds it done").isZero();
  }

  /**
   * Batches and roll-ups at the same time, the clock running on and some messages arriving after
   * their hour closed: every hour holds every message once, whichever ran first.
   */
  @Test
  void rollUp_concurrentWithBatches_everyHourHoldsEveryMessageOnce() throws Exception {
    List<HealthSample> all = new ArrayList<>();
    for (int i = 0; i < 360; i++) {
      Instant at = T0.plusSeconds(30L * i);
      all.add(sample(i % 2 == 0 ? "gw-1" : "gw-2", NEW, at, 10L * i, 5 + (i % 4)));
    }
    clock.set(T0);
    java.util.concurrent.atomic.AtomicBoolean done =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger rolled =
        new java.util.concurrent.atomic.AtomicInteger();
    NodeStore replica = new NodeStore(db, HealthHistory.Retention.DEFAULT, clock);
    Thread roller =
        new Thread(
            () -> {
              while (!done.get()) {
                try {
                  rolled.addAndGet(replica.rollUpHealth());
                  Thread.sleep(2);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }
            });
    java.util.List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    roller.setUncaughtExceptionHandler((t, e) -> failures.add(e));
    roller.start();
    try {
      for (int i = 0; i < all.size(); i += 2) {
        // Six minutes late: the last messages of each hour may come after it closed.
        clock.set(all.get(i).health().at().plusSeconds(360));
        nodes.recordHealth(all.subList(i, i + 2));
      }
    } finally {
      done.set(true);
      roller.join();
    }
    assertThat(failures).isEmpty();
    clock.set(T0.plusSeconds(4 * 3600));
    rolled.addAndGet(nodes.rollUpHealth());
    assertThat(rolled.get()).isEqualTo(3);
    List<HealthBucket> hourly = new ArrayList<>();
    for (String node : List.of("gw-1", "gw-2")) {
      hourly.addAll(
          db.run(
              "test",
              c ->
                  HealthHistory.bucketRows(
                      c, HealthTier.HOURLY, node, T0, T0.plusSeconds(4 * 3600), 0)));
    }
    hourly.sort(java.util.Comparator.comparing(HealthBucket::key));
    assertThat(hourly).isEqualTo(HealthBucket.aggregate(HealthTier.HOURLY, all));
  }

  /**
   * Hours with messages on both sides of more than a day without any (a fleet switched off over a
   * weekend, or a controller down that long): one roll-up rolls up both, moving the mark over the
   * empty hours a day per pass, and the hourly tier equals the messages.
   */
  @Test
  void rollUp_afterMoreThanADayWithoutMessages_rollsUpEveryHourThatHasAny() throws Exception {
    List<HealthSample> all = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      all.add(sample("gw-1", NEW, T0.plusSeconds(30L * i), 10L * i, 5));
      all.add(sample("gw-1", NEW, T0.plusSeconds(40 * 3600 + 30L * i), 100 + 10L * i, 6));
    }
    for (HealthSample s : all) {
      clock.set(s.health().at().plusSeconds(1));
      nodes.recordHealth(List.of(s));
    }
    clock.set(T0.plusSeconds(41 * 3600 + 300));
    assertThat(nodes.rollUpHealth()).isEqualTo(2);
    assertThat(nodes.rollUpHealth()).isZero();
    assertThat(stored(HealthTier.HOURLY))
        .isEqualTo(HealthBucket.aggregate(HealthTier.HOURLY, all))
        .extracting(HealthBucket::samples)
        .containsExactly(4, 4);
  }

  /** Today's schema with one row per message, migrated: latest kept, history aggregated. */
  @Test
  void migrationV3_fromOneRowPerMessage_keepsTheLatestAndTheAggregates() throws Exception {
    DataSource ds = io.edgeslm.fleet.TestDatabases.migrate(emptyDatabase(), "2");
    try (var c = ds.getConnection();
        var ps =
            c.prepareStatement(
                "INSERT INTO node_health (node_id, at, received_at, ready, source, model_digest,"
                    + " tokens_per_second, p95_latency_ms, queue_depth, requests, errors,"
                    + " ram_used_bytes, ram_total_bytes, disk_free_bytes, cpu_temperature_c,"
                    + " activation_score) VALUES (?,?,?,true,'model',?,?,700,0,?,?,1,2,3,NULL,?)")) {
      for (int i = 0; i < 20; i++) {
        Instant at = T0.plusSeconds(30L * i);
        ps.setString(1, "gw-1");
        ps.setObject(2, java.time.OffsetDateTime.ofInstant(at, java.time.ZoneOffset.UTC));
        ps.setObject(3, java.time.OffsetDateTime.ofInstant(at, java.time.ZoneOffset.UTC));
        ps.setString(4, NEW.digest());
        ps.setDouble(5, 10 + i);
        ps.setLong(6, 100L * i);
        ps.setLong(7, i);
        ps.setDouble(8, 1.0 - i / 100.0);
        ps.executeUpdate();
      }
    }
    io.edgeslm.fleet.TestDatabases.migrate(ds, null);
    NodeStore migrated = new NodeStore(new Db(ds), HealthHistory.Retention.DEFAULT, clock);

    assertThat(migrated.latestHealth("gw-1").orElseThrow().at()).isEqualTo(T0.plusSeconds(570));
    // 20 messages, 30 s apart from 10:00:00: two full 5-minute buckets of 10.
    List<HealthPoint> points = migrated.health("gw-1", T0, T0.plusSeconds(3600), 100);
    assertThat(points).extracting(HealthPoint::samples).containsExactly(10, 10);
    assertThat(points.get(0).at()).isEqualTo(T0.plusSeconds(570));
    assertThat(points.get(0).tokensPerSecond()).isEqualTo(24.5);
    ModelMetrics m = migrated.metrics("gw-1", NEW.digest(), T0, T0.plusSeconds(600)).orElseThrow();
    assertThat(m).isEqualTo(new ModelMetrics(20, 19.5, 700.0, 19.0 / 1900, 1.0 - 19 / 100.0));
  }

  long count(String table) throws Exception {
    try (var c = db.connection();
        var st = c.createStatement();
        var rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void mergeJournal_replayedAndOutOfOrder_isIdempotentAndAcksTheContiguousPrefix()
      throws Exception {
    JournalEntry e1 = new JournalEntry(1, T0, JournalEvent.ASSIGNED, "r1.gw-1", null, NEW, null);
    JournalEntry e2 =
        new JournalEntry(2, T0.plusSeconds(5), JournalEvent.DOWNLOADED, "r1.gw-1", null, NEW, null);
    JournalEntry e3 =
        new JournalEntry(3, T0.plusSeconds(9), JournalEvent.ACTIVATED, "r1.gw-1", null, NEW, null);

    assertThat(nodes.mergeJournal("plant-1", batch(e1, e3), T0)).isEqualTo(1);
    assertThat(nodes.mergeJournal("plant-1", batch(e2), T0)).isEqualTo(3);
    assertThat(nodes.mergeJournal("plant-1", batch(e1, e2, e3), T0)).isEqualTo(3);

    assertThat(nodes.journal("gw-1", 10)).extracting(JournalRow::seq).containsExactly(3L, 2L, 1L);
    assertThat(nodes.results("r1"))
        .containsExactly(Map.entry("r1.gw-1", new InstallResult(true, T0.plusSeconds(9), null)));
  }

  static JournalBatch batch(JournalEntry... entries) {
    return new JournalBatch(Protocol.SCHEMA_VERSION, "gw-1", List.of(entries));
  }

  @Test
  void recordResult_rejected_isAFailureWithTheNodesReason() throws Exception {
    nodes.recordResult(
        "plant-1",
        "gw-2",
        new UpdateResult(
            Protocol.SCHEMA_VERSION,
            "r1.gw-2",
            null,
            UpdateOutcome.REJECTED,
            NEW,
            OLD,
            "target",
            "device class gw-2g is not targeted",
            null,
            T0),
        T0);
    assertThat(nodes.results("r1").get("r1.gw-2"))
        .isEqualTo(new InstallResult(false, T0, "rejected: device class gw-2g is not targeted"));
    assertThat(nodes.results("r")).isEmpty();
  }

  @Test
  void nodes_filtersAndKeysetPages() throws Exception {
    for (int i = 0; i < 7; i++) {
      nodes.recordBirth(
          i < 4 ? "plant-1" : "plant-2",
          "gw-" + i,
          birth(i % 2 == 0 ? NEW : OLD, Map.of("line", i % 2 == 0 ? "a_1" : "b"), T0),
          T0);
    }
    Page<NodeRow> first = nodes.nodes(NodeFilter.NONE, null, 3);
    assertThat(first.items()).extracting(NodeRow::nodeId).containsExactly("gw-0", "gw-1", "gw-2");
    Page<NodeRow> last = nodes.nodes(NodeFilter.NONE, "gw-5", 3);
    assertThat(last.items()).extracting(NodeRow::nodeId).containsExactly("gw-6");
    assertThat(last.next()).isNull();
    assertThat(first.next()).isEqualTo("gw-2");
    assertThat(
            nodes.nodes(new NodeFilter(null, "plant-1", null, "line=a_1", null), null, 10).items())
        .extracting(NodeRow::nodeId)
        .containsExactly("gw-0", "gw-2");
    assertThat(nodes.countByModel())
        .containsExactly(Map.entry("phi-mini v4", 4L), Map.entry("phi-mini v3", 3L));
    List<FleetNode> fleet = nodes.fleetNodes();
    assertThat(fleet).hasSize(7);
    assertThat(
            fleet.stream()
                .filter(new NodeSelector(null, null, null, 0, Map.of("line", "b"))::matches))
        .hasSize(3);
  }

  @Test
  void compareAndSet_twoWritersOfOneRevision_onlyTheFirstWins() throws Exception {
    catalog.insert(bundle());
    RolloutEngine engine = new RolloutEngine();
    RolloutPlan plan =
        new RolloutPlan(
            "p", "b-1", NEW, null, List.of(Wave.count(1), Wave.percent(100)), null, null, null);
    RolloutStep created = engine.create("r1", plan, "alice", T0);
    rollouts.create(created.state(), created.audit());
    assertThatThrownBy(() -> rollouts.create(created.state(), created.audit()))
        .isInstanceOf(FleetConflictException.class)
        .hasMessage("A rollout with id 'r1' exists already. Choose another id.");

    RolloutState stored = rollouts.load("r1").orElseThrow();
    assertThat(stored).isEqualTo(created.state());
    RolloutStep a = engine.pause(stored, "bob", "night shift", T0.plusSeconds(1));
    RolloutStep b = engine.abort(stored, "carol", "wrong model", T0.plusSeconds(2));

    assertThat(rollouts.compareAndSet(a.state(), stored.revision(), a.audit())).isTrue();
    assertThat(rollouts.compareAndSet(b.state(), stored.revision(), b.audit())).isFalse();
    assertThat(rollouts.load("r1").orElseThrow()).isEqualTo(a.state());
    assertThat(rollouts.audit("r1", 10))
        .extracting(AuditEvent::action)
        .containsExactly("created", "paused");
    assertThat(rollouts.activeIds()).containsExactly("r1");
    assertThat(rollouts.usesBundle("b-1")).isTrue();
  }

  List<OutboxStore.Row> queue(String rollout, RolloutAction a, Instant at) throws Exception {
    return db.tx(
        "test",
        c ->
            outbox.queueActions(
                c,
                rollout,
                "b-1",
                List.of(a),
                n -> 8192,
                "why",
                at,
                "replica-1",
                at.plusSeconds(60)));
  }

  @Test
  void retainedAssignment_isClearedOnlyByTheRolloutThatHoldsIt() throws Exception {
    List<OutboxStore.Row> a = queue("r-a", new RolloutAction.Dispatch("gw-1", "s", "r-a.gw-1"), T0);
    assertThat(a)
        .extracting(OutboxStore.Row::kind, OutboxStore.Row::chunkBytes)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(OutboxStore.Kind.DISPATCH, 8192));
    assertThat(outbox.retainedAssignment("gw-1")).isEqualTo("r-a.gw-1");
    assertThat(outbox.chunkBytesOf("gw-1", "r-a.gw-1")).isEqualTo(8192);

    // A newer rollout takes the node's retained slot.
    queue("r-b", new RolloutAction.Dispatch("gw-1", "s", "r-b.gw-1"), T0.plusSeconds(1));
    assertThat(outbox.retainedAssignment("gw-1")).isEqualTo("r-b.gw-1");
    assertThat(outbox.chunkBytesOf("gw-1", "r-a.gw-1")).isNull();

    // A late result or an abort of the older rollout must not clear the newer assignment.
    assertThat(outbox.queueClear("s", "gw-1", "r-a.gw-1", T0, "replica-1", T0.plusSeconds(60)))
        .isEmpty();
    assertThat(queue("r-a", new RolloutAction.Cancel("gw-1", "s", "r-a.gw-1"), T0.plusSeconds(2)))
        .extracting(OutboxStore.Row::kind)
        .containsExactly(OutboxStore.Kind.CANCEL);
    assertThat(outbox.retainedAssignment("gw-1")).isEqualTo("r-b.gw-1");

    // The holder's rollback sends its command and clears its own assignment.
    assertThat(
            queue(
                "r-b",
                new RolloutAction.Rollback("gw-1", "s", "r-b.gw-1", OLD.digest()),
                T0.plusSeconds(3)))
        .extracting(OutboxStore.Row::kind)
        .containsExactly(OutboxStore.Kind.ROLLBACK, OutboxStore.Kind.CLEAR);
    assertThat(outbox.retainedAssignment("gw-1")).isNull();
    assertThat(outbox.pending()).isEqualTo(5);
  }

  @Test
  void outboxRows_areClaimedByAnotherReplicaOnlyAfterTheLease_andReleasedAtRestart()
      throws Exception {
    List<OutboxStore.Row> rows =
        queue("r-a", new RolloutAction.Dispatch("gw-1", "s", "r-a.gw-1"), T0);
    Instant leaseEnd = T0.plusSeconds(60);
    assertThat(outbox.claimExpired("replica-2", T0.plusSeconds(59), T0.plusSeconds(120), 10))
        .as("still leased to its writer")
        .isEmpty();
    List<OutboxStore.Row> taken =
        outbox.claimExpired("replica-2", leaseEnd.plusMillis(1), T0.plusSeconds(200), 10);
    assertThat(taken).isEqualTo(rows);
    assertThat(outbox.claimExpired("replica-3", leaseEnd.plusMillis(2), T0.plusSeconds(300), 10))
        .as("one claimer at a time")
        .isEmpty();

    // replica-2 restarts: what it had claimed is free at once.
    assertThat(outbox.releaseClaimsOf("replica-2")).isEqualTo(1);
    assertThat(outbox.claimExpired("replica-2", T0, T0.plusSeconds(60), 10)).isEqualTo(rows);
    outbox.delete(rows, true);
    assertThat(outbox.pending()).isZero();
  }

  static BundleInfo bundle() {
    return new BundleInfo(
        "b-1",
        NEW,
        5,
        4096,
        List.of(new BundleFile("model.gguf", 5, "c".repeat(64), List.of("d".repeat(64)))),
        "{}",
        Set.of("k1"),
        "alice",
        T0);
  }

  @Test
  void catalog_insertGetListDelete() throws Exception {
    catalog.insert(bundle());
    assertThat(catalog.get("b-1").orElseThrow()).isEqualTo(bundle());
    assertThatThrownBy(() -> catalog.insert(bundle()))
        .isInstanceOf(FleetConflictException.class)
        .hasMessageStartingWith("The catalog already holds this bundle as 'b-1'");
    assertThat(catalog.list(null, 10).items()).hasSize(1);
    assertThat(catalog.delete("b-1")).isTrue();
    assertThat(catalog.get("b-1")).isEmpty();
  }

  @Test
  void tokens_storeOnlyTheHash() throws Exception {
    tokens.create("ci", Role.RELEASE_MANAGER, "s3cret-token-value", T0);
    assertThat(tokens.find("s3cret-token-value").orElseThrow().role())
        .isEqualTo(Role.RELEASE_MANAGER);
    assertThat(tokens.find("other")).isEmpty();
    assertThat(TokenStore.sha256("abc"))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThatThrownBy(() -> tokens.create("ci", Role.VIEWER, "x", T0))
        .isInstanceOf(FleetConflictException.class);
    assertThat(tokens.delete("ci")).isTrue();
  }
}
