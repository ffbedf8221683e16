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

  HealthHistory(Db db, Retention retention, Clock clock) {
    this.db = db;
    this.retention = retention;
    this.clock = clock;
  }

  Retention retention() {
    return retention;
  }

  // ---- writes ----------------------------------------------------------------------------

  /** The batch's buckets per tier, without messages outside what the tier keeps. */
  TreeMap<HealthTier, List<HealthBucket>> buckets(List<HealthSample> batch) {
    Instant now = clock.instant();
    TreeMap<HealthTier, List<HealthBucket>> out = new TreeMap<>();
    for (HealthTier tier : HealthTier.values()) {
      Instant oldest = tier.partition(now.minus(retention.of(tier)));
      Instant newest = now.plus(AHEAD);
      List<HealthSample> kept = new ArrayList<>();
      for (HealthSample s : batch) {
        Instant at = s.health().at();
        if (!at.isBefore(oldest) && at.isBefore(newest)) {
          kept.add(s);
        }
      }
      out.put(tier, HealthBucket.aggregate(tier, kept));
    }
    return out;
  }

  /**
   * Creates the partitions the buckets need (PostgreSQL), each in its own short transaction before
   * the batch's, so the batch does not hold the parent table's lock while it writes.
   */
  void ensurePartitions(TreeMap<HealthTier, List<HealthBucket>> buckets)
      throws FleetStorageException {
    if (!db.postgres()) {
      return;
    }
    for (var e : buckets.entrySet()) {
      HealthTier tier = e.getKey();
      TreeSet<Instant> starts = new TreeSet<>();
      for (HealthBucket b : e.getValue()) {
        starts.add(tier.partition(b.bucket()));
      }
      for (Instant start : starts) {
        String name = tier.partitionName(start);
        if (!partitions.contains(name)) {
          createPartition(tier, start);
          partitions.add(name);
        }
      }
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
                    + "') WITH (fillfactor = 60)");
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
   * Writes the newest message per node and the buckets, inside the caller's transaction. A stored
   * bucket takes a new one only if all of its messages are newer than the bucket's newest (so a
   * redelivered message changes nothing); a node's latest row only takes a newer message.
   */
  void write(
      Connection c, List<HealthSample> latest, TreeMap<HealthTier, List<HealthBucket>> buckets)
      throws SQLException {
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
    for (var e : buckets.entrySet()) {
      upsert(
          c,
          e.getKey().table(),
          BUCKET_COLUMNS,
          BUCKET_TYPES,
          "node_id, bucket, model_digest",
          e.getValue(),
          HealthHistory::bucketRow,
          "n.first_at > t.last_at",
          BUCKET_MERGE);
    }
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

  // ---- retention -------------------------------------------------------------------------

  /**
   * Removes history past retention: on PostgreSQL every partition whose whole period ended before
   * {@code now - retention} is dropped; on H2 the buckets of those periods are deleted.
   */
  Pruned prune() throws FleetStorageException {
    Instant now = clock.instant();
    int dropped = 0;
    long deleted = 0;
    for (HealthTier tier : HealthTier.values()) {
      // A partition goes when the newest instant it covers is past retention.
      Instant keepFrom = tier.partition(now.minus(retention.of(tier)));
      if (db.postgres()) {
        for (String name : partitionsOf(tier)) {
          Instant start = tier.partitionStart(name);
          if (start != null && start.isBefore(keepFrom)) {
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
                    Db.setTime(ps, 1, keepFrom);
                    return (long) ps.executeUpdate();
                  }
                });
      }
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
   * One point per bucket (and model) overlapping {@code [from, to)}, newest first: its newest
   * message's time and gauges, the means of tokens/s and p95 latency, the counters' maxima, the
   * lowest activation score.
   */
  List<HealthPoint> points(String nodeId, Instant from, Instant to, int limit)
      throws FleetStorageException {
    HealthTier tier = tierFor(from);
    return db.run(
        "reading health of node '" + nodeId + "'",
        c -> {
          List<HealthPoint> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT * FROM "
                      + tier.table()
                      + " WHERE node_id = ? AND bucket >= ? AND bucket < ?"
                      + " ORDER BY bucket DESC, last_at DESC FETCH FIRST "
                      + Math.max(1, Math.min(limit, 5000))
                      + " ROWS ONLY")) {
            ps.setString(1, nodeId);
            Db.setTime(ps, 2, tier.bucket(from));
            Db.setTime(ps, 3, to);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                int tpsN = rs.getInt("tps_n");
                int p95N = rs.getInt("p95_n");
                String digest = rs.getString("model_digest");
                out.add(
                    new HealthPoint(
                        Db.time(rs, "last_at"),
                        rs.getInt("samples"),
                        rs.getBoolean("ready"),
                        rs.getString("source"),
                        digest.isEmpty() ? null : digest,
                        tpsN == 0 ? null : rs.getDouble("tps_sum") / tpsN,
                        p95N == 0 ? null : Math.round(rs.getDouble("p95_sum") / p95N),
                        rs.getInt("queue_depth"),
                        rs.getLong("requests_max"),
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
        });
  }

  /**
   * The node's health while serving {@code digest}, over the buckets overlapping {@code [from,
   * to)}: a bucket that holds {@code from} counts whole (its messages of that model before {@code
   * from} included), one that starts at or after {@code to} does not.
   */
  Optional<ModelMetrics> metrics(String nodeId, String digest, Instant from, Instant to)
      throws FleetStorageException {
    HealthTier tier = tierFor(from);
    return db.run(
        "aggregating health of node '" + nodeId + "'",
        c -> {
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
            Db.setTime(ps, 3, tier.bucket(from));
            Db.setTime(ps, 4, to);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              long n = rs.getLong("n");
              if (n == 0) {
                return Optional.empty();
              }
              long tpsN = rs.getLong("tps_n");
              long p95N = rs.getLong("p95_n");
              long requests = rs.getLong("req1") - rs.getLong("req0");
              long errors = rs.getLong("err1") - rs.getLong("err0");
              Double errorRate =
                  requests > 0 ? Math.min(1.0, Math.max(0.0, (double) errors / requests)) : null;
              return Optional.of(
                  new ModelMetrics(
                      (int) Math.min(Integer.MAX_VALUE, n),
                      tpsN == 0 ? null : rs.getDouble("tps") / tpsN,
                      p95N == 0 ? null : rs.getDouble("p95") / p95N,
                      errorRate,
                      Db.doubleOrNull(rs, "score")));
            }
          }
        });
  }
}
