package io.edgeslm.fleet.internal.store;

import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.ModelMetrics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Health storage (ADR 0012): the newest message per node kept in place, and history as per-node
 * buckets in two tiers ({@link HealthTier}). On PostgreSQL the tiers are partitioned by time;
 * partitions are created when the first message for them is written and dropped whole when they are
 * past retention. On H2 (no declarative partitioning) the same periods are deleted by one range
 * {@code DELETE} each.
 *
 * <p>Writes are one statement per table per batch: on PostgreSQL a multi-row upsert over arrays
 * ({@code INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE}), on H2 a batched {@code MERGE}.
 *
 * <p>The hourly tier is written once per node, model and hour (ADR 0012, decision 7): the batches
 * write the 5-minute tier only, and the maintenance pass rolls each hour up from its 5-minute
 * buckets with one {@code INSERT … SELECT} when the hour has closed ({@link #GRACE} after its end).
 * {@code node_health_rollup.closed_until} says up to where hours are rolled up; a message for an
 * earlier hour (late, or older than the 5-minute tier keeps) is merged into its hourly bucket
 * directly. An hour is rolled up either before a batch's messages of it or after them, on every
 * replica: on PostgreSQL a batch holds a shared transaction-level advisory lock per hour its
 * messages fall in and reads the mark after taking them, and the roll-up of an hour takes that
 * hour's lock exclusively, so it waits only for batches that carry messages of the hour it rolls
 * (late ones, after {@link #GRACE}), never for the batches of the current hour; on H2 (no shared
 * locks) a batch holds the mark's row and the roll-up waits for it. Reads of the hourly tier take
 * the hours not yet rolled up from their 5-minute buckets, so they answer the same before and after
 * the roll-up.
 */
public final class HealthHistory {

  /**
   * Retention of the two tiers.
   *
   * @param detail how long 5-minute buckets are kept (at least a day: the chart shows 24 h)
   * @param history how long hourly buckets are kept
   */
  public record Retention(Duration detail, Duration history) {
    public static final Retention DEFAULT = new Retention(Duration.ofDays(1), Duration.ofDays(7));

    public Retention {
      if (detail.compareTo(Duration.ofDays(1)) < 0 || history.compareTo(detail) < 0) {
        throw new IllegalArgumentException(
            "health retention: the 5-minute detail must be kept at least P1D and the hourly"
                + " history at least as long as the detail: got detail "
                + detail
                + ", history "
                + history
                + ". Set fleet.health.detail-retention and fleet.health.retention accordingly.");
      }
    }

    Duration of(HealthTier tier) {
      return tier == HealthTier.FIVE_MINUTES ? detail : history;
    }
  }

  /** What a retention pass removed: partitions dropped (PostgreSQL) or rows deleted (H2). */
  public record Pruned(int partitionsDropped, long rowsDeleted) {}

  /** How far ahead of the controller's clock a message may be and still go into history. */
  static final Duration AHEAD = Duration.ofHours(1);

  /**
   * How long after its end an hour is rolled up into the hourly tier: messages that arrive later
   * than that are merged into the hourly bucket directly (an update in place, which the roll-up
   * exists to avoid, so the grace is far above a heartbeat's ingest lag).
   */
  static final Duration GRACE = Duration.ofMinutes(5);

  /**
   * The first key of the roll-up's advisory locks on PostgreSQL ("ESLH"); the second is the hour.
   */
  private static final int ROLLUP_LOCK_SPACE = 0x45534c48;

  /** How many hours one roll-up transaction may lock and move the mark over. */
  private static final int LOCKED_HOURS_PER_PASS = 24;

  private static final Duration HOUR = Duration.ofHours(1);

  private static final String[] BUCKET_COLUMNS = {
    "node_id",
    "bucket",
    "model_digest",
    "samples",
    "first_at",
    "last_at",
    "ready",
    "source",
    "tps_sum",
    "tps_n",
    "p95_sum",
    "p95_n",
    "queue_depth",
    "requests_min",
    "requests_max",
    "errors_min",
    "errors_max",
    "ram_used_bytes",
    "ram_total_bytes",
    "disk_free_bytes",
    "cpu_temperature_c",
    "score_min"
  };
  private static final String[] BUCKET_TYPES = {
    "varchar", "ts", "varchar", "int4", "ts", "ts", "bool", "varchar", "float8", "int4", "float8",
    "int4", "int4", "int8", "int8", "int8", "int8", "int8", "int8", "int8", "float8", "float8"
  };
  private static final String[] LATEST_COLUMNS = {
    "node_id",
    "at",
    "received_at",
    "ready",
    "source",
    "model_digest",
    "tokens_per_second",
    "p95_latency_ms",
    "queue_depth",
    "requests",
    "errors",
    "ram_used_bytes",
    "ram_total_bytes",
    "disk_free_bytes",
    "cpu_temperature_c",
    "activation_score"
  };
  private static final String[] LATEST_TYPES = {
    "varchar", "ts", "ts", "bool", "varchar", "varchar", "float8", "int8", "int4", "int8", "int8",
    "int8", "int8", "int8", "float8", "float8"
  };

  private final Db db;
  private final Retention retention;
  private final Clock clock;
  private final Set<String> partitions = ConcurrentHashMap.newKeySet();
  private volatile boolean rollupStarted;

  HealthHistory(Db db, Retention retention, Clock clock) {
    this.db = db;
    this.retention = retention;
    this.clock = clock;
  }

  Retention retention() {
    return retention;
  }

  // ---- writes ----------------------------------------------------------------------------

  /**
   * A batch ready to be written: its 5-minute buckets, and the messages the hourly tier keeps (of
   * which the write takes those of hours already rolled up).
   */
  record Prepared(List<HealthBucket> fiveMinutes, List<HealthSample> hourly) {}

  /**
   * The batch's 5-minute buckets and hourly candidates, without messages the tier does not keep.
   */
  Prepared prepare(List<HealthSample> batch) {
    Instant now = clock.instant();
    Instant newest = now.plus(AHEAD);
    return new Prepared(
        HealthBucket.aggregate(
            HealthTier.FIVE_MINUTES, kept(batch, HealthTier.FIVE_MINUTES, now, newest)),
        kept(batch, HealthTier.HOURLY, now, newest));
  }

  private List<HealthSample> kept(
      List<HealthSample> batch, HealthTier tier, Instant now, Instant newest) {
    Instant oldest = tier.partition(now.minus(retention.of(tier)));
    List<HealthSample> kept = new ArrayList<>();
    for (HealthSample s : batch) {
      Instant at = s.health().at();
      if (!at.isBefore(oldest) && at.isBefore(newest)) {
        kept.add(s);
      }
    }
    return kept;
  }

  /**
   * Creates the partitions the batch may write (PostgreSQL), each in its own short transaction
   * before the batch's, so the batch does not hold the parent table's lock while it writes; and,
   * once per controller, starts the roll-up's bookkeeping (see {@link #startRollup}).
   */
  void ensurePartitions(Prepared batch) throws FleetStorageException {
    startRollup();
    if (!db.postgres()) {
      return;
    }
    TreeSet<Instant> detail = new TreeSet<>();
    for (HealthBucket b : batch.fiveMinutes()) {
      detail.add(HealthTier.FIVE_MINUTES.partition(b.bucket()));
    }
    TreeSet<Instant> hourly = new TreeSet<>();
    for (HealthSample s : batch.hourly()) {
      hourly.add(HealthTier.HOURLY.partition(s.health().at()));
    }
    for (Instant start : detail) {
      ensurePartition(HealthTier.FIVE_MINUTES, start);
    }
    for (Instant start : hourly) {
      ensurePartition(HealthTier.HOURLY, start);
    }
  }

  private void ensurePartition(HealthTier tier, Instant start) throws FleetStorageException {
    if (!db.postgres()) {
      return;
    }
    String name = tier.partitionName(start);
    if (!partitions.contains(name)) {
      createPartition(tier, start);
      partitions.add(name);
    }
  }

  private void createPartition(HealthTier tier, Instant start) throws FleetStorageException {
    String name = tier.partitionName(start);
    db.run(
        "creating health partition " + name,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT 1 FROM pg_class WHERE relname = ? AND relnamespace ="
                      + " current_schema()::regnamespace")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                return null;
              }
            }
          }
          try (Statement st = c.createStatement()) {
            st.execute(
                "CREATE TABLE IF NOT EXISTS "
                    + name
                    + " PARTITION OF "
                    + tier.table()
                    + " FOR VALUES FROM ('"
                    + start
                    + "') TO ('"
                    + start.plus(tier.partitionLength())
                    // 5-minute rows are updated in place (room for heap-only updates); hourly
                    // rows are written once by the roll-up, so their pages are filled.
                    + "') WITH (fillfactor = "
                    + (tier == HealthTier.FIVE_MINUTES ? 60 : 100)
                    + ")");
          } catch (SQLException e) {
            // Another replica created it at the same moment: the catalog's unique index says so.
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) {
              throw e;
            }
          }
          return null;
        });
  }

  /**
   * Writes the newest message per node, the 5-minute buckets, and the hourly buckets of hours that
   * are rolled up already, inside the caller's transaction (which holds the roll-up row shared from
   * here to its commit). A stored bucket takes a new one only if all of its messages are newer than
   * the bucket's newest (so a redelivered message changes nothing); a node's latest row only takes
   * a newer message.
   */
  void write(Connection c, List<HealthSample> latest, Prepared batch) throws SQLException {
    Instant closed = holdHours(c, batch);
    if (closed == null) {
      // startRollup ran before the transaction; without it, hours from now on are open.
      closed = HealthTier.HOURLY.bucket(clock.instant());
    }
    upsert(
        c,
        "node_health_latest",
        LATEST_COLUMNS,
        LATEST_TYPES,
        "node_id",
        latest,
        s -> {
          var h = s.health();
          return new Object[] {
            s.nodeId(),
            h.at().truncatedTo(ChronoUnit.MICROS),
            s.receivedAt().truncatedTo(ChronoUnit.MICROS),
            h.ready(),
            h.source().name().toLowerCase(java.util.Locale.ROOT),
            h.model() == null
                ? null
                : h.adapter() != null ? h.adapter().digest() : h.model().digest(),
            h.tokensPerSecond(),
            h.p95LatencyMs(),
            h.queueDepth(),
            h.requests(),
            h.errors(),
            h.ramUsedBytes(),
            h.ramTotalBytes(),
            h.diskFreeBytes(),
            h.cpuTemperatureC(),
            h.activationScore()
          };
        },
        "n.at > t.at",
        latestSet());
    upsertBuckets(c, HealthTier.FIVE_MINUTES, batch.fiveMinutes());
    List<HealthSample> late = new ArrayList<>();
    for (HealthSample s : batch.hourly()) {
      if (HealthTier.HOURLY.bucket(s.health().at()).isBefore(closed)) {
        late.add(s);
      }
    }
    if (!late.isEmpty()) {
      upsertBuckets(c, HealthTier.HOURLY, HealthBucket.aggregate(HealthTier.HOURLY, late));
    }
  }

  private void upsertBuckets(Connection c, HealthTier tier, List<HealthBucket> buckets)
      throws SQLException {
    upsert(
        c,
        tier.table(),
        BUCKET_COLUMNS,
        BUCKET_TYPES,
        "node_id, bucket, model_digest",
        buckets,
        HealthHistory::bucketRow,
        "n.first_at > t.last_at",
        BUCKET_MERGE);
  }

  private static Object[] bucketRow(HealthBucket b) {
    return new Object[] {
      b.nodeId(),
      b.bucket(),
      b.modelDigest(),
      b.samples(),
      b.firstAt(),
      b.lastAt(),
      b.ready(),
      b.source(),
      b.tpsSum(),
      b.tpsN(),
      b.p95Sum(),
      b.p95N(),
      b.queueDepth(),
      b.requestsMin(),
      b.requestsMax(),
      b.errorsMin(),
      b.errorsMax(),
      b.ramUsedBytes(),
      b.ramTotalBytes(),
      b.diskFreeBytes(),
      b.cpuTemperatureC(),
      b.scoreMin()
    };
  }

  private static String latestSet() {
    StringBuilder b = new StringBuilder();
    for (int i = 1; i < LATEST_COLUMNS.length; i++) {
      b.append(i > 1 ? ", " : "")
          .append(LATEST_COLUMNS[i])
          .append(" = n.")
          .append(LATEST_COLUMNS[i]);
    }
    return b.toString();
  }

  /** How a stored bucket {@code t} takes a newer one {@code n}: the rules of HealthBucket.merge. */
  private static final String BUCKET_MERGE =
      "samples = t.samples + n.samples, last_at = n.last_at, ready = n.ready, source = n.source,"
          + " tps_sum = t.tps_sum + n.tps_sum, tps_n = t.tps_n + n.tps_n,"
          + " p95_sum = t.p95_sum + n.p95_sum, p95_n = t.p95_n + n.p95_n,"
          + " queue_depth = n.queue_depth,"
          + " requests_min = LEAST(t.requests_min, n.requests_min),"
          + " requests_max = GREATEST(t.requests_max, n.requests_max),"
          + " errors_min = LEAST(t.errors_min, n.errors_min),"
          + " errors_max = GREATEST(t.errors_max, n.errors_max),"
          + " ram_used_bytes = n.ram_used_bytes, ram_total_bytes = n.ram_total_bytes,"
          + " disk_free_bytes = n.disk_free_bytes, cpu_temperature_c = n.cpu_temperature_c,"
          + " score_min = COALESCE(LEAST(t.score_min, n.score_min), t.score_min, n.score_min)";

  /**
   * One upsert of many rows. PostgreSQL: one statement, each column bound as an array and unnested,
   * {@code ON CONFLICT (key) DO UPDATE … WHERE condition}; timestamps travel as epoch microseconds
   * (exact, and free of the driver's time-zone handling of timestamp arrays). H2: a batched {@code
   * MERGE … WHEN MATCHED AND condition}.
   */
  <T> void upsert(
      Connection c,
      String table,
      String[] columns,
      String[] types,
      String key,
      Collection<T> rows,
      Function<T, Object[]> values,
      String condition,
      String set)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    String cols = String.join(", ", columns);
    if (db.postgres()) {
      StringBuilder select = new StringBuilder();
      StringBuilder unnest = new StringBuilder();
      for (int i = 0; i < columns.length; i++) {
        String sqlType = types[i].equals("ts") ? "int8" : types[i];
        unnest.append(i > 0 ? ", " : "").append("?::").append(sqlType).append("[]");
        select
            .append(i > 0 ? ", " : "")
            .append(
                types[i].equals("ts")
                    ? "TIMESTAMPTZ 'epoch' + u." + columns[i] + " * INTERVAL '1 microsecond'"
                    : "u." + columns[i]);
      }
      String sql =
          "INSERT INTO "
              + table
              + " AS t ("
              + cols
              + ") SELECT "
              + select
              + " FROM unnest("
              + unnest
              + ") AS u("
              + cols
              + ") ON CONFLICT ("
              + key
              + ") DO UPDATE SET "
              + set.replace("n.", "excluded.")
              + " WHERE "
              + condition.replace("n.", "excluded.");
      // Typed Java arrays, which the driver sends in PostgreSQL's binary array format (no text
      // to print here and to parse in the server, as createArrayOf's text form would need).
      Object[][] arrays = new Object[columns.length][];
      for (int i = 0; i < columns.length; i++) {
        arrays[i] =
            switch (types[i]) {
              case "varchar" -> new String[rows.size()];
              case "int4" -> new Integer[rows.size()];
              case "int8", "ts" -> new Long[rows.size()];
              case "float8" -> new Double[rows.size()];
              case "bool" -> new Boolean[rows.size()];
              default -> throw new IllegalArgumentException(types[i]);
            };
      }
      int r = 0;
      for (T row : rows) {
        Object[] v = values.apply(row);
        for (int i = 0; i < columns.length; i++) {
          Object x = v[i];
          if (x != null) {
            x =
                switch (types[i]) {
                  case "ts" -> micros((Instant) x);
                  case "int4" -> ((Number) x).intValue();
                  case "int8" -> ((Number) x).longValue();
                  case "float8" -> ((Number) x).doubleValue();
                  default -> x;
                };
          }
          arrays[i][r] = x;
        }
        r++;
      }
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < columns.length; i++) {
          ps.setObject(i + 1, arrays[i]);
        }
        ps.executeUpdate();
      }
      return;
    }
    StringBuilder params = new StringBuilder();
    StringBuilder insertValues = new StringBuilder();
    for (int i = 0; i < columns.length; i++) {
      params.append(i > 0 ? ", " : "").append("?");
      insertValues.append(i > 0 ? ", " : "").append("n.").append(columns[i]);
    }
    StringBuilder on = new StringBuilder();
    for (String k : key.split(",\\s*")) {
      on.append(on.isEmpty() ? "" : " AND ").append("t.").append(k).append(" = n.").append(k);
    }
    String sql =
        "MERGE INTO "
            + table
            + " t USING (VALUES ("
            + params
            + ")) AS n("
            + cols
            + ") ON "
            + on
            + " WHEN MATCHED AND "
            + condition
            + " THEN UPDATE SET "
            + set
            + " WHEN NOT MATCHED THEN INSERT ("
            + cols
            + ") VALUES ("
            + insertValues
            + ")";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (T row : rows) {
        Object[] v = values.apply(row);
        for (int i = 0; i < columns.length; i++) {
          if (types[i].equals("ts")) {
            Db.setTime(ps, i + 1, (Instant) v[i]);
          } else {
            ps.setObject(i + 1, v[i], h2Type(types[i]));
          }
        }
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private static int h2Type(String type) {
    return switch (type) {
      case "varchar" -> java.sql.Types.VARCHAR;
      case "int4" -> java.sql.Types.INTEGER;
      case "int8" -> java.sql.Types.BIGINT;
      case "float8" -> java.sql.Types.DOUBLE;
      case "bool" -> java.sql.Types.BOOLEAN;
      default -> throw new IllegalArgumentException(type);
    };
  }

  private static long micros(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
  }

  // ---- hourly roll-up ---------------------------------------------------------------------

  /**
   * Once per controller: if no hour was ever rolled up (a new database, or one migrated from V3,
   * whose batches wrote the hourly tier themselves), hours before the current one count as rolled
   * up. Their hourly rows, if any, were written by those batches; from the current hour on the
   * roll-up writes them.
   */
  void startRollup() throws FleetStorageException {
    if (rollupStarted) {
      return;
    }
    Instant hour = HealthTier.HOURLY.bucket(clock.instant());
    db.run(
        "starting the hourly health roll-up",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE node_health_rollup SET closed_until = ?"
                      + " WHERE id = 1 AND closed_until IS NULL")) {
            Db.setTime(ps, 1, hour);
            ps.executeUpdate();
          }
          return null;
        });
    rollupStarted = true;
  }

  /**
   * Keeps the roll-up off the hours of {@code batch} until the caller's transaction ends, and
   * returns up to where hours are rolled up (exclusive), or null before {@link #startRollup}.
   *
   * <p>PostgreSQL: one shared advisory lock per hour of the batch's messages, in ascending order,
   * then a plain read of the mark. Read committed gives that read a snapshot taken after the locks
   * are held, so an hour is either rolled up already (its messages go to the hourly tier as late
   * ones) or its roll-up waits for this transaction's 5-minute rows. The mark's row is not locked:
   * batches neither wait for a roll-up of another hour nor create multixacts on the one row.
   *
   * <p>H2 has no shared locks: the row is locked exclusively and read again once held (H2 does not
   * document that a locking read returns the newest version), so its batches and the roll-up take
   * turns; one controller's two writers on a test database.
   */
  private Instant holdHours(Connection c, Prepared batch) throws SQLException {
    if (!db.postgres()) {
      closedUntil(c, " FOR UPDATE");
      return closedUntil(c, "");
    }
    TreeSet<Long> hours = new TreeSet<>();
    for (HealthSample s : batch.hourly()) {
      hours.add(hourKey(s.health().at()));
    }
    lockHours(c, hours, true);
    return closedUntil(c, "");
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  /**
   * Takes the advisory locks of {@code hours} (keys of {@link #hourKey}, in ascending order, so
   * batches and roll-ups never wait for each other in a circle), shared or exclusively, until the
   * transaction ends (PostgreSQL).
   */
  private static void lockHours(Connection c, Iterable<Long> hours, boolean shared)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            shared
                ? "SELECT pg_advisory_xact_lock_shared(?, ?)"
                : "SELECT pg_advisory_xact_lock(?, ?)")) {
      for (long h : hours) {
        ps.setInt(1, ROLLUP_LOCK_SPACE);
        ps.setInt(2, (int) h);
        ps.execute();
      }
    }
  }

  /**
   * The advisory lock key of the hour {@code at} falls in: hours since the epoch, which fit the
   * second key's 32 bits until the year 246,000; negative (before 1970) ones too, as health
   * messages' times are checked against the clock on intake.
   */
  private static long hourKey(Instant at) {
    return Math.floorDiv(at.getEpochSecond(), 3600);
  }

  private static Instant closedUntil(Connection c, String lockClause) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT closed_until FROM node_health_rollup WHERE id = 1" + lockClause);
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Db.time(rs, "closed_until") : null;
    }
  }

  /** The oldest 5-minute bucket in {@code [from, to)}, or null. */
  private static Instant firstDetail(Connection c, Instant from, Instant to) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT MIN(bucket) AS b FROM node_health_5m WHERE bucket >= ? AND bucket < ?")) {
      Db.setTime(ps, 1, from);
      Db.setTime(ps, 2, to);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Db.time(rs, "b") : null;
      }
    }
  }

  /**
   * Rolls up every hour that has closed and is not rolled up yet, from its 5-minute buckets: one
   * transaction per hour that has any (hours without are skipped), holding the mark's row
   * exclusively (so two replicas take turns and each hour is rolled up once) and, on PostgreSQL,
   * the advisory locks of the hours the mark moves over (so batches still writing messages of those
   * hours commit first, and later ones see the hours as rolled up; batches of other hours do not
   * wait). On H2 batches hold the mark's row and the roll-up waits for all of them.
   *
   * @return the hours rolled up
   */
  int rollUp() throws FleetStorageException {
    startRollup();
    Instant target = HealthTier.HOURLY.bucket(clock.instant().minus(GRACE));
    int rolled = 0;
    // Bounded: each pass moves closed_until on or ends; a week of hours is 168 passes.
    for (int pass = 0; pass < 100_000; pass++) {
      Instant first =
          db.run(
              "finding the next hour to roll up",
              c -> {
                Instant closed = closedUntil(c, "");
                if (closed == null || !closed.isBefore(target)) {
                  return Instant.MAX;
                }
                Instant b = firstDetail(c, closed, target);
                return b == null ? Instant.MIN : b;
              });
      if (first.equals(Instant.MAX)) {
        break;
      }
      if (!first.equals(Instant.MIN)) {
        ensurePartition(HealthTier.HOURLY, HealthTier.HOURLY.partition(first));
      }
      Boolean hour =
          db.tx(
              "rolling up hourly health",
              c -> {
                Instant closed = closedUntil(c, " FOR UPDATE");
                if (!db.postgres()) {
                  closed = closedUntil(c, "");
                }
                if (closed == null || !closed.isBefore(target)) {
                  return null;
                }
                Instant b = firstDetail(c, closed, target);
                Instant until = b == null ? target : HealthTier.HOURLY.bucket(b).plus(HOUR);
                if (db.postgres()) {
                  // The mark moves only over hours whose locks this transaction holds
                  // exclusively (see holdHours): it waits for the batches that carry messages of
                  // them, and each statement below reads a snapshot taken after the wait. At most
                  // a day of hours per pass, so the locks stay few after a long outage.
                  until = min(until, closed.plus(LOCKED_HOURS_PER_PASS, ChronoUnit.HOURS));
                  List<Long> hours = new ArrayList<>();
                  for (Instant h = closed; h.isBefore(until); h = h.plus(HOUR)) {
                    hours.add(hourKey(h));
                  }
                  lockHours(c, hours, false);
                  b = firstDetail(c, closed, until);
                }
                boolean rolledOne = false;
                if (b != null) {
                  Instant h = HealthTier.HOURLY.bucket(b);
                  if (db.postgres()
                      && !partitions.contains(
                          HealthTier.HOURLY.partitionName(HealthTier.HOURLY.partition(h)))) {
                    // A batch wrote an earlier day meanwhile: the next pass creates its partition.
                    return false;
                  }
                  rollUpHour(c, h);
                  until = h.plus(HOUR);
                  rolledOne = true;
                }
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "UPDATE node_health_rollup SET closed_until = ?"
                            + " WHERE id = 1 AND closed_until < ?")) {
                  Db.setTime(ps, 1, until);
                  Db.setTime(ps, 2, until);
                  ps.executeUpdate();
                }
                return rolledOne;
              });
      if (hour == null) {
        break;
      }
      if (hour) {
        rolled++;
      }
    }
    return rolled;
  }

  /**
   * The hourly buckets of one hour from its 5-minute buckets, per node and model: the sums and
   * counts added, counter minima and maxima, the lowest score, and the gauges of the newest
   * 5-minute bucket (its {@code last_at} is the hour's newest message). A row already there (the
   * current hour of a database migrated from V3, whose batches wrote it) is replaced: the 5-minute
   * buckets hold all of its messages.
   */
  private void rollUpHour(Connection c, Instant hour) throws SQLException {
    String newest = " ORDER BY last_at DESC))[1] AS ";
    String select =
        "SELECT g.node_id, CAST(? AS TIMESTAMP WITH TIME ZONE) AS bucket, g.model_digest,"
            + " g.s_samples AS samples, g.s_first AS first_at, g.s_last AS last_at,"
            + " g.s_ready AS ready, g.s_source AS source, g.s_tps AS tps_sum, g.s_tps_n AS tps_n,"
            + " g.s_p95 AS p95_sum, g.s_p95_n AS p95_n, g.s_queue AS queue_depth,"
            + " g.s_req0 AS requests_min, g.s_req1 AS requests_max, g.s_err0 AS errors_min,"
            + " g.s_err1 AS errors_max, g.s_ram AS ram_used_bytes, g.s_ram_total AS ram_total_bytes,"
            + " g.s_disk AS disk_free_bytes, g.s_cpu AS cpu_temperature_c, g.s_score AS score_min"
            + " FROM (SELECT node_id, model_digest, SUM(samples) AS s_samples,"
            + " MIN(first_at) AS s_first, MAX(last_at) AS s_last,"
            + " (ARRAY_AGG(ready"
            + newest
            + "s_ready, (ARRAY_AGG(source"
            + newest
            + "s_source,"
            + " SUM(tps_sum) AS s_tps, SUM(tps_n) AS s_tps_n, SUM(p95_sum) AS s_p95,"
            + " SUM(p95_n) AS s_p95_n, (ARRAY_AGG(queue_depth"
            + newest
            + "s_queue,"
            + " MIN(requests_min) AS s_req0, MAX(requests_max) AS s_req1,"
            + " MIN(errors_min) AS s_err0, MAX(errors_max) AS s_err1,"
            + " (ARRAY_AGG(ram_used_bytes"
            + newest
            + "s_ram, (ARRAY_AGG(ram_total_bytes"
            + newest
            + "s_ram_total, (ARRAY_AGG(disk_free_bytes"
            + newest
            + "s_disk, (ARRAY_AGG(cpu_temperature_c"
            + newest
            + "s_cpu, MIN(score_min) AS s_score"
            + " FROM node_health_5m WHERE bucket >= ? AND bucket < ?"
            + " GROUP BY node_id, model_digest) g";
    String cols = String.join(", ", BUCKET_COLUMNS);
    StringBuilder set = new StringBuilder();
    StringBuilder values = new StringBuilder();
    for (int i = 0; i < BUCKET_COLUMNS.length; i++) {
      values.append(i > 0 ? ", " : "").append("n.").append(BUCKET_COLUMNS[i]);
      if (i >= 3) {
        set.append(set.isEmpty() ? "" : ", ")
            .append(BUCKET_COLUMNS[i])
            .append(" = ")
            .append(db.postgres() ? "excluded." : "n.")
            .append(BUCKET_COLUMNS[i]);
      }
    }
    String sql =
        db.postgres()
            ? "INSERT INTO node_health_1h ("
                + cols
                + ") "
                + select
                + " ON CONFLICT (node_id, bucket, model_digest) DO UPDATE SET "
                + set
            : "MERGE INTO node_health_1h t USING ("
                + select
                + ") n ON t.node_id = n.node_id AND t.bucket = n.bucket"
                + " AND t.model_digest = n.model_digest WHEN MATCHED THEN UPDATE SET "
                + set
                + " WHEN NOT MATCHED THEN INSERT ("
                + cols
                + ") VALUES ("
                + values
                + ")";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      Db.setTime(ps, 1, hour);
      Db.setTime(ps, 2, hour);
      Db.setTime(ps, 3, hour.plus(HOUR));
      ps.executeUpdate();
    }
  }

  // ---- retention -------------------------------------------------------------------------

  /**
   * Rolls up the hours that have closed ({@link #rollUp}), then removes history past retention: on
   * PostgreSQL every partition whose whole period ended before {@code now - retention} is dropped;
   * on H2 the buckets of those periods are deleted. 5-minute buckets of hours not rolled up yet are
   * kept whatever their age (a roll-up that failed takes them at the next pass); a failed roll-up
   * is thrown after retention has run.
   */
  Pruned prune() throws FleetStorageException {
    FleetStorageException rollupFailure = null;
    try {
      rollUp();
    } catch (FleetStorageException e) {
      rollupFailure = e;
    }
    Instant now = clock.instant();
    Instant closed = db.run("reading the hourly health roll-up", c -> closedUntil(c, ""));
    int dropped = 0;
    long deleted = 0;
    for (HealthTier tier : HealthTier.values()) {
      // A partition goes when the newest instant it covers is past retention.
      Instant keepFrom = tier.partition(now.minus(retention.of(tier)));
      if (tier == HealthTier.FIVE_MINUTES && closed != null && closed.isBefore(keepFrom)) {
        keepFrom = tier.partition(closed);
      }
      Instant from = keepFrom;
      if (db.postgres()) {
        for (String name : partitionsOf(tier)) {
          Instant start = tier.partitionStart(name);
          if (start != null && start.isBefore(from)) {
            db.run(
                "dropping health partition " + name,
                c -> {
                  try (Statement st = c.createStatement()) {
                    st.execute("DROP TABLE IF EXISTS " + name);
                  }
                  return null;
                });
            partitions.remove(name);
            dropped++;
          }
        }
      } else {
        deleted +=
            db.run(
                "deleting expired health buckets",
                c -> {
                  try (PreparedStatement ps =
                      c.prepareStatement("DELETE FROM " + tier.table() + " WHERE bucket < ?")) {
                    Db.setTime(ps, 1, from);
                    return (long) ps.executeUpdate();
                  }
                });
      }
    }
    if (rollupFailure != null) {
      throw rollupFailure;
    }
    return new Pruned(dropped, deleted);
  }

  /** The partitions of a tier (PostgreSQL), oldest first. */
  public List<String> partitionsOf(HealthTier tier) throws FleetStorageException {
    if (!db.postgres()) {
      return List.of();
    }
    return db.run(
        "listing health partitions",
        c -> {
          List<String> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                      + " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ?"
                      + " AND p.relnamespace = current_schema()::regnamespace ORDER BY c.relname")) {
            ps.setString(1, tier.table());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getString(1));
              }
            }
          }
          return out;
        });
  }

  // ---- reads -----------------------------------------------------------------------------

  /** The node's newest health message, as a point of one sample. */
  Optional<HealthPoint> latest(String nodeId) throws FleetStorageException {
    return db.run(
        "reading the latest health of node '" + nodeId + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT * FROM node_health_latest WHERE node_id = ?")) {
            ps.setString(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              return Optional.of(
                  new HealthPoint(
                      Db.time(rs, "at"),
                      1,
                      rs.getBoolean("ready"),
                      rs.getString("source"),
                      rs.getString("model_digest"),
                      Db.doubleOrNull(rs, "tokens_per_second"),
                      Db.longOrNull(rs, "p95_latency_ms"),
                      rs.getInt("queue_depth"),
                      rs.getLong("requests"),
                      rs.getLong("errors"),
                      rs.getLong("ram_used_bytes"),
                      rs.getLong("ram_total_bytes"),
                      rs.getLong("disk_free_bytes"),
                      Db.doubleOrNull(rs, "cpu_temperature_c"),
                      Db.doubleOrNull(rs, "activation_score")));
            }
          }
        });
  }

  /** The tier that holds {@code from}: 5-minute buckets while they are kept, else hourly. */
  HealthTier tierFor(Instant from) {
    Instant detailFrom =
        HealthTier.FIVE_MINUTES.partition(clock.instant().minus(retention.detail()));
    return from.isBefore(detailFrom) ? HealthTier.HOURLY : HealthTier.FIVE_MINUTES;
  }

  /**
   * Where a read of the hourly tier over {@code [start, to)} splits: hourly rows before it, the
   * 5-minute buckets of the hours not rolled up yet from it on ({@code to} when all are rolled up).
   */
  private static Instant split(Instant closed, Instant start, Instant to) {
    if (closed == null || !closed.isBefore(to)) {
      return to;
    }
    return closed.isBefore(start) ? start : closed;
  }

  /**
   * The end of the 5-minute buckets that make up the hours starting before {@code to}: an hour
   * bucket that starts before {@code to} counts whole.
   */
  private static Instant hoursEnd(Instant to) {
    Instant hour = HealthTier.HOURLY.bucket(to);
    return hour.equals(to) ? to : hour.plus(HOUR);
  }

  /**
   * One point per bucket (and model) overlapping {@code [from, to)}, newest first: its newest
   * message's time and gauges, the means of tokens/s and p95 latency, the counters' maxima, the
   * lowest activation score. From the hourly tier, an hour not rolled up yet is its 5-minute
   * buckets merged, as the roll-up will merge them.
   */
  List<HealthPoint> points(String nodeId, Instant from, Instant to, int limit)
      throws FleetStorageException {
    HealthTier tier = tierFor(from);
    int max = Math.max(1, Math.min(limit, 5000));
    return db.run(
        "reading health of node '" + nodeId + "'",
        c -> {
          List<HealthBucket> buckets;
          if (tier == HealthTier.FIVE_MINUTES) {
            buckets = bucketRows(c, tier, nodeId, tier.bucket(from), to, max);
          } else {
            Instant start = tier.bucket(from);
            Instant split = split(closedUntil(c, ""), start, to);
            buckets = new ArrayList<>(bucketRows(c, tier, nodeId, start, split, max));
            if (split.isBefore(to)) {
              List<HealthBucket> detail =
                  bucketRows(c, HealthTier.FIVE_MINUTES, nodeId, split, hoursEnd(to), 0);
              TreeMap<String, HealthBucket> hours = new TreeMap<>();
              for (HealthBucket b : detail.reversed()) {
                HealthBucket hour = b.in(HealthTier.HOURLY);
                hours.merge(hour.key(), hour, HealthBucket::merge);
              }
              buckets.addAll(hours.values());
              buckets.sort(
                  java.util.Comparator.comparing(HealthBucket::bucket)
                      .thenComparing(HealthBucket::lastAt)
                      .reversed());
            }
          }
          List<HealthPoint> out = new ArrayList<>();
          for (HealthBucket b : buckets.subList(0, Math.min(max, buckets.size()))) {
            out.add(point(b));
          }
          return out;
        });
  }

  /**
   * A node's buckets of a tier in {@code [from, to)}, newest first, at most {@code limit} ({@code
   * 0}: all).
   */
  static List<HealthBucket> bucketRows(
      Connection c, HealthTier tier, String nodeId, Instant from, Instant to, int limit)
      throws SQLException {
    List<HealthBucket> out = new ArrayList<>();
    if (!from.isBefore(to)) {
      return out;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT * FROM "
                + tier.table()
                + " WHERE node_id = ? AND bucket >= ? AND bucket < ?"
                + " ORDER BY bucket DESC, last_at DESC"
                + (limit > 0 ? " FETCH FIRST " + limit + " ROWS ONLY" : ""))) {
      ps.setString(1, nodeId);
      Db.setTime(ps, 2, from);
      Db.setTime(ps, 3, to);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new HealthBucket(
                  rs.getString("node_id"),
                  Db.time(rs, "bucket"),
                  rs.getString("model_digest"),
                  rs.getInt("samples"),
                  Db.time(rs, "first_at"),
                  Db.time(rs, "last_at"),
                  rs.getBoolean("ready"),
                  rs.getString("source"),
                  rs.getDouble("tps_sum"),
                  rs.getInt("tps_n"),
                  rs.getDouble("p95_sum"),
                  rs.getInt("p95_n"),
                  rs.getInt("queue_depth"),
                  rs.getLong("requests_min"),
                  rs.getLong("requests_max"),
                  rs.getLong("errors_min"),
                  rs.getLong("errors_max"),
                  rs.getLong("ram_used_bytes"),
                  rs.getLong("ram_total_bytes"),
                  rs.getLong("disk_free_bytes"),
                  Db.doubleOrNull(rs, "cpu_temperature_c"),
                  Db.doubleOrNull(rs, "score_min")));
        }
      }
    }
    return out;
  }

  private static HealthPoint point(HealthBucket b) {
    return new HealthPoint(
        b.lastAt(),
        b.samples(),
        b.ready(),
        b.source(),
        b.modelDigest().isEmpty() ? null : b.modelDigest(),
        b.tpsN() == 0 ? null : b.tpsSum() / b.tpsN(),
        b.p95N() == 0 ? null : Math.round(b.p95Sum() / b.p95N()),
        b.queueDepth(),
        b.requestsMax(),
        b.errorsMax(),
        b.ramUsedBytes(),
        b.ramTotalBytes(),
        b.diskFreeBytes(),
        b.cpuTemperatureC(),
        b.scoreMin());
  }

  /**
   * The node's health while serving {@code digest}, over the buckets overlapping {@code [from,
   * to)}: a bucket that holds {@code from} counts whole (its messages of that model before {@code
   * from} included), one that starts at or after {@code to} does not. From the hourly tier, the
   * hours not rolled up yet count by their 5-minute buckets, whole hours as well.
   */
  Optional<ModelMetrics> metrics(String nodeId, String digest, Instant from, Instant to)
      throws FleetStorageException {
    HealthTier tier = tierFor(from);
    return db.run(
        "aggregating health of node '" + nodeId + "'",
        c -> {
          Sums sums = new Sums();
          if (tier == HealthTier.FIVE_MINUTES) {
            sums.add(c, tier, nodeId, digest, tier.bucket(from), to);
          } else {
            Instant start = tier.bucket(from);
            Instant split = split(closedUntil(c, ""), start, to);
            sums.add(c, tier, nodeId, digest, start, split);
            if (split.isBefore(to)) {
              sums.add(c, HealthTier.FIVE_MINUTES, nodeId, digest, split, hoursEnd(to));
            }
          }
          return sums.metrics();
        });
  }

  /** Sums, minima and maxima over buckets, added up over one or two ranges. */
  private static final class Sums {
    long n;
    double tps;
    long tpsN;
    double p95;
    long p95N;
    Long req0;
    Long req1;
    Long err0;
    Long err1;
    Double score;

    void add(Connection c, HealthTier tier, String nodeId, String digest, Instant from, Instant to)
        throws SQLException {
      if (!from.isBefore(to)) {
        return;
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT SUM(samples) AS n, SUM(tps_sum) AS tps, SUM(tps_n) AS tps_n,"
                  + " SUM(p95_sum) AS p95, SUM(p95_n) AS p95_n, MIN(requests_min) AS req0,"
                  + " MAX(requests_max) AS req1, MIN(errors_min) AS err0,"
                  + " MAX(errors_max) AS err1, MIN(score_min) AS score FROM "
                  + tier.table()
                  + " WHERE node_id = ? AND model_digest = ? AND bucket >= ? AND bucket < ?")) {
        ps.setString(1, nodeId);
        ps.setString(2, digest);
        Db.setTime(ps, 3, from);
        Db.setTime(ps, 4, to);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          long rows = rs.getLong("n");
          if (rows == 0) {
            return;
          }
          n += rows;
          tps += rs.getDouble("tps");
          tpsN += rs.getLong("tps_n");
          p95 += rs.getDouble("p95");
          p95N += rs.getLong("p95_n");
          req0 = min(req0, rs.getLong("req0"));
          req1 = max(req1, rs.getLong("req1"));
          err0 = min(err0, rs.getLong("err0"));
          err1 = max(err1, rs.getLong("err1"));
          Double s = Db.doubleOrNull(rs, "score");
          score = score == null ? s : s == null ? score : Double.valueOf(Math.min(score, s));
        }
      }
    }

    private static Long min(Long a, long b) {
      return a == null ? b : Math.min(a, b);
    }

    private static Long max(Long a, long b) {
      return a == null ? b : Math.max(a, b);
    }

    Optional<ModelMetrics> metrics() {
      if (n == 0) {
        return Optional.empty();
      }
      long requests = req1 - req0;
      long errors = err1 - err0;
      Double errorRate =
          requests > 0 ? Math.min(1.0, Math.max(0.0, (double) errors / requests)) : null;
      return Optional.of(
          new ModelMetrics(
              (int) Math.min(Integer.MAX_VALUE, n),
              tpsN == 0 ? null : tps / tpsN,
              p95N == 0 ? null : p95 / p95N,
              errorRate,
              score));
    }
  }
}
