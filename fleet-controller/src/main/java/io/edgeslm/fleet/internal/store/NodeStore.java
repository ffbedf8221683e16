package io.edgeslm.fleet.internal.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.edgeslm.fleet.FleetNode;
import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.InstallResult;
import io.edgeslm.fleet.ModelMetrics;
import io.edgeslm.protocol.JournalBatch;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdateProgress;
import io.edgeslm.protocol.UpdateResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The registry: nodes from birth and status messages, health history, update journal, results and
 * progress. Every write is idempotent, so a message delivered twice (QoS 1, a replica restart, a
 * journal replay) changes nothing the second time.
 */
public final class NodeStore {

  /** Longest page of any list. */
  public static final int MAX_PAGE = 500;

  private static final TypeReference<TreeMap<String, String>> LABELS = new TypeReference<>() {};

  private final Db db;
  private final HealthHistory history;

  /** A store with the default health retention (ADR 0012) and the system clock. */
  public NodeStore(Db db) {
    this(db, HealthHistory.Retention.DEFAULT, Clock.systemUTC());
  }

  /**
   * @param retention how long health history is kept, per tier
   * @param clock decides which messages are too old or too far ahead for history, which tier a read
   *     uses, and what retention removes
   */
  public NodeStore(Db db, HealthHistory.Retention retention, Clock clock) {
    this.db = db;
    this.history = new HealthHistory(db, retention, clock);
  }

  // ---- writes ----------------------------------------------------------------------------

  /** Stores the facts of a birth message (creates the node on first sight). */
  public void recordBirth(String site, String nodeId, NodeBirth birth, Instant receivedAt)
      throws FleetStorageException {
    recordBatch(List.of(new BirthEvent(site, nodeId, birth, receivedAt)), List.of(), List.of());
  }

  /** Stores presence from a retained status message or a will. */
  public void recordStatus(String site, String nodeId, NodeStatus status, Instant receivedAt)
      throws FleetStorageException {
    recordBatch(List.of(), List.of(new StatusEvent(site, nodeId, status, receivedAt)), List.of());
  }

  /** Stores a batch of health messages in one transaction. */
  public void recordHealth(List<HealthSample> batch) throws FleetStorageException {
    recordBatch(List.of(), List.of(), batch);
  }

  /**
   * Stores births, statuses and health messages in one transaction. Order inside the batch does not
   * matter: every update is guarded by the message's own time, so an older message never overwrites
   * a newer one, and a redelivered health message is skipped by its primary key.
   */
  public void recordBatch(
      List<BirthEvent> births, List<StatusEvent> statuses, List<HealthSample> health)
      throws FleetStorageException {
    if (births.isEmpty() && statuses.isEmpty() && health.isEmpty()) {
      return;
    }
    HealthHistory.Prepared buckets = history.prepare(health);
    if (!health.isEmpty()) {
      history.ensurePartitions(buckets);
    }
    db.tx(
        "storing " + (births.size() + statuses.size() + health.size()) + " registry messages",
        c -> {
          if (db.postgres()) {
            // Commit without waiting for the WAL flush: a crash loses at most the last fraction of
            // a second of registry messages. Health is QoS 0 with cumulative counters anyway, and
            // births and statuses are retained, so the broker sends them again on resubscribe.
            try (java.sql.Statement st = c.createStatement()) {
              st.execute("SET LOCAL synchronous_commit TO OFF");
            }
          }
          // Sorted by node id, so concurrent transactions of two replicas lock rows in one order.
          TreeMap<String, Object[]> seen = new TreeMap<>();
          for (BirthEvent e : births) {
            seen.putIfAbsent(e.nodeId(), new Object[] {e.site(), e.receivedAt()});
          }
          for (StatusEvent e : statuses) {
            seen.putIfAbsent(e.nodeId(), new Object[] {e.site(), e.receivedAt()});
          }
          db.insertIgnoring(
              c,
              ENSURE_SQL,
              List.copyOf(seen.entrySet()),
              (ps, e) ->
                  bindEnsure(ps, (String) e.getValue()[0], e.getKey(), (Instant) e.getValue()[1]));
          if (!births.isEmpty()) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE nodes SET site = ?, agent_version = ?, arch = ?, device_class = ?,"
                        + " ram_bytes = ?, labels_json = ?, model_name = ?, model_version = ?,"
                        + " model_digest = ?, max_packet_bytes = ?, booted_at = ?, birth_at = ?,"
                        + " last_seen_at = ? WHERE node_id = ?"
                        + " AND (birth_at IS NULL OR birth_at <= ?)")) {
              for (BirthEvent e : births) {
                NodeBirth birth = e.birth();
                ModelRef m = birth.activeModel();
                ps.setString(1, e.site());
                ps.setString(2, birth.agentVersion());
                ps.setString(3, birth.arch());
                ps.setString(4, birth.deviceClass());
                ps.setLong(5, birth.ramBytes());
                ps.setString(6, labelsJson(birth.labels()));
                ps.setString(7, m == null ? null : m.name());
                ps.setObject(8, m == null ? null : m.version());
                ps.setString(9, m == null ? null : m.digest());
                ps.setObject(10, birth.maxPacketBytes());
                Db.setTime(ps, 11, birth.bootedAt());
                Db.setTime(ps, 12, birth.at());
                Db.setTime(ps, 13, e.receivedAt());
                ps.setString(14, e.nodeId());
                // An older retained birth delivered late must not overwrite newer facts.
                Db.setTime(ps, 15, birth.at());
                ps.addBatch();
              }
              ps.executeBatch();
            }
          }
          if (!statuses.isEmpty()) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE nodes SET status = ?, status_since = ?, status_reason = ?,"
                        + " last_seen_at = ? WHERE node_id = ?"
                        + " AND (status_since IS NULL OR status_since <= ?)")) {
              for (StatusEvent e : statuses) {
                NodeStatus status = e.status();
                // The will has no time of its own: it takes effect when received.
                Instant since = status.since() == null ? e.receivedAt() : status.since();
                ps.setString(1, status.state() == NodeState.ONLINE ? "online" : "offline");
                Db.setTime(ps, 2, since);
                ps.setString(3, status.reason());
                Db.setTime(ps, 4, e.receivedAt());
                ps.setString(5, e.nodeId());
                Db.setTime(ps, 6, since);
                ps.addBatch();
              }
              ps.executeBatch();
            }
          }
          if (health.isEmpty()) {
            return null;
          }
          TreeMap<String, HealthSample> latest = new TreeMap<>();
          java.util.HashMap<String, Instant> firstSeen = new java.util.HashMap<>();
          for (HealthSample s : health) {
            latest.merge(s.nodeId(), s, (a, b) -> a.health().at().isAfter(b.health().at()) ? a : b);
            firstSeen.merge(s.nodeId(), s.receivedAt(), (a, b) -> a.isBefore(b) ? a : b);
          }
          // The node's row takes the batch's newest message of each node: created if the node is
          // new, else updated if the message is newer than its last one; one statement for all.
          history.upsert(
              c,
              "nodes",
              HEALTH_NODE_COLUMNS,
              HEALTH_NODE_TYPES,
              "node_id",
              latest.values(),
              s ->
                  new Object[] {
                    s.nodeId(),
                    s.site(),
                    firstSeen.get(s.nodeId()),
                    s.receivedAt(),
                    s.health().ready(),
                    s.health().at()
                  },
              "(t.last_health_at IS NULL OR t.last_health_at < n.last_health_at)",
              "ready = n.ready, last_health_at = n.last_health_at, last_seen_at = n.last_seen_at");
          history.write(c, List.copyOf(latest.values()), buckets);
          return null;
        });
  }

  /**
   * Stores the final result of an assignment. Intermediate outcomes ({@code verified}) and
   * command-only results are ignored here; the journal keeps them.
   */
  public void recordResult(String site, String nodeId, UpdateResult r, Instant receivedAt)
      throws FleetStorageException {
    if (r.assignmentId() == null || r.outcome() == UpdateOutcome.VERIFIED) {
      return;
    }
    db.tx(
        "storing an update result of node '" + nodeId + "'",
        c -> {
          ensureNode(c, site, nodeId, receivedAt);
          upsertResult(
              c,
              nodeId,
              r.assignmentId(),
              r.outcome().name().toLowerCase(Locale.ROOT),
              r.at(),
              r.reason(),
              r.activationScore());
          return null;
        });
  }

  private void upsertResult(
      Connection c,
      String nodeId,
      String assignmentId,
      String outcome,
      Instant at,
      String reason,
      Double score)
      throws SQLException {
    try (PreparedStatement upd =
        c.prepareStatement(
            "UPDATE update_results SET outcome = ?, at = ?, reason = ?, activation_score = ?"
                + " WHERE node_id = ? AND assignment_id = ? AND at <= ?")) {
      upd.setString(1, outcome);
      Db.setTime(upd, 2, at);
      upd.setString(3, reason);
      upd.setObject(4, score);
      upd.setString(5, nodeId);
      upd.setString(6, assignmentId);
      Db.setTime(upd, 7, at);
      if (upd.executeUpdate() > 0) {
        return;
      }
    }
    db.insertIgnoring(
        c,
        "INSERT INTO update_results (node_id, assignment_id, outcome, at, reason,"
            + " activation_score) VALUES (?,?,?,?,?,?)",
        List.of(nodeId),
        (ins, n) -> {
          ins.setString(1, n);
          ins.setString(2, assignmentId);
          ins.setString(3, outcome);
          Db.setTime(ins, 4, at);
          ins.setString(5, reason);
          ins.setObject(6, score);
        });
  }

  /** Stores the latest progress of an assignment. */
  public void recordProgress(String site, String nodeId, UpdateProgress p, Instant receivedAt)
      throws FleetStorageException {
    db.tx(
        "storing update progress of node '" + nodeId + "'",
        c -> {
          ensureNode(c, site, nodeId, receivedAt);
          try (PreparedStatement upd =
              c.prepareStatement(
                  "UPDATE update_progress SET phase = ?, bytes_done = ?, bytes_total = ?, at = ?"
                      + " WHERE node_id = ? AND assignment_id = ? AND at <= ?")) {
            upd.setString(1, p.phase().name().toLowerCase(Locale.ROOT));
            upd.setLong(2, p.bytesDone());
            upd.setLong(3, p.bytesTotal());
            Db.setTime(upd, 4, p.at());
            upd.setString(5, nodeId);
            upd.setString(6, p.assignmentId());
            Db.setTime(upd, 7, p.at());
            if (upd.executeUpdate() > 0) {
              return null;
            }
          }
          db.insertIgnoring(
              c,
              "INSERT INTO update_progress (node_id, assignment_id, phase, bytes_done,"
                  + " bytes_total, at) VALUES (?,?,?,?,?,?)",
              List.of(p),
              (ins, x) -> {
                ins.setString(1, nodeId);
                ins.setString(2, x.assignmentId());
                ins.setString(3, x.phase().name().toLowerCase(Locale.ROOT));
                ins.setLong(4, x.bytesDone());
                ins.setLong(5, x.bytesTotal());
                Db.setTime(ins, 6, x.at());
              });
          return null;
        });
  }

  /**
   * Merges a journal batch: entries already stored are skipped, final outcomes in it are recorded
   * as results, and the node's contiguous high-water mark advances.
   *
   * @return the highest sequence number up to which every entry is stored (for the ack)
   */
  public long mergeJournal(String site, JournalBatch batch, Instant receivedAt)
      throws FleetStorageException {
    String nodeId = batch.nodeId();
    return db.tx(
        "merging the journal of node '" + nodeId + "'",
        c -> {
          ensureNode(c, site, nodeId, receivedAt);
          db.insertIgnoring(
              c,
              "INSERT INTO node_journal (node_id, seq, at, event, assignment_id, command_id,"
                  + " model_digest, detail) VALUES (?,?,?,?,?,?,?,?)",
              batch.entries(),
              (ps, e) -> {
                ps.setString(1, nodeId);
                ps.setLong(2, e.seq());
                Db.setTime(ps, 3, e.at());
                ps.setString(4, e.event().name().toLowerCase(Locale.ROOT));
                ps.setString(5, e.assignmentId());
                ps.setString(6, e.commandId());
                ps.setString(7, e.model() == null ? null : e.model().digest());
                ps.setString(8, e.detail());
              });
          for (JournalEntry e : batch.entries()) {
            String outcome = finalOutcome(e.event());
            if (outcome != null && e.assignmentId() != null) {
              upsertResult(c, nodeId, e.assignmentId(), outcome, e.at(), e.detail(), null);
            }
          }
          long hw;
          try (PreparedStatement ps =
              c.prepareStatement("SELECT journal_seq FROM nodes WHERE node_id = ? FOR UPDATE")) {
            ps.setString(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              hw = rs.getLong(1);
            }
          }
          long start = hw;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT seq FROM node_journal WHERE node_id = ? AND seq > ? ORDER BY seq"
                      + " FETCH FIRST 10000 ROWS ONLY")) {
            ps.setString(1, nodeId);
            ps.setLong(2, hw);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next() && rs.getLong(1) == hw + 1) {
                hw++;
              }
            }
          }
          if (hw != start) {
            try (PreparedStatement ps =
                c.prepareStatement("UPDATE nodes SET journal_seq = ? WHERE node_id = ?")) {
              ps.setLong(1, hw);
              ps.setString(2, nodeId);
              ps.executeUpdate();
            }
          }
          return hw;
        });
  }

  private static String finalOutcome(JournalEvent event) {
    return switch (event) {
      case ACTIVATED -> "activated";
      case REJECTED -> "rejected";
      case ROLLED_BACK -> "rolled_back";
      case CANCELLED -> "cancelled";
      default -> null;
    };
  }

  /**
   * The health maintenance pass: rolls up the hours that have closed into the hourly tier, then
   * removes health history past retention: whole partitions on PostgreSQL, the same periods by a
   * range delete on H2.
   */
  public HealthHistory.Pruned pruneHealth() throws FleetStorageException {
    return history.prune();
  }

  /**
   * Rolls up into the hourly tier every hour that has closed and is not rolled up yet (also part of
   * {@link #pruneHealth}).
   *
   * @return the hours rolled up
   */
  public int rollUpHealth() throws FleetStorageException {
    return history.rollUp();
  }

  /** The health partitions of a tier (PostgreSQL; empty on H2), oldest first. */
  public List<String> healthPartitions(HealthTier tier) throws FleetStorageException {
    return history.partitionsOf(tier);
  }

  private static final String[] HEALTH_NODE_COLUMNS = {
    "node_id", "site", "first_seen_at", "last_seen_at", "ready", "last_health_at"
  };
  private static final String[] HEALTH_NODE_TYPES = {
    "varchar", "varchar", "ts", "ts", "bool", "ts"
  };

  private static final String ENSURE_SQL =
      "INSERT INTO nodes (node_id, site, first_seen_at, last_seen_at) VALUES (?,?,?,?)";

  private void ensureNode(Connection c, String site, String nodeId, Instant at)
      throws SQLException {
    db.insertIgnoring(c, ENSURE_SQL, List.of(nodeId), (ps, n) -> bindEnsure(ps, site, n, at));
  }

  private static void bindEnsure(PreparedStatement ps, String site, String nodeId, Instant at)
      throws SQLException {
    ps.setString(1, nodeId);
    ps.setString(2, site);
    Db.setTime(ps, 3, at);
    Db.setTime(ps, 4, at);
  }

  // ---- reads -----------------------------------------------------------------------------

  private static final String NODE_COLUMNS =
      "node_id, site, agent_version, arch, device_class, ram_bytes, labels_json, model_name,"
          + " model_version, model_digest, max_packet_bytes, booted_at, birth_at, status,"
          + " status_since, status_reason, ready, last_health_at, first_seen_at, last_seen_at,"
          + " journal_seq";

  public Optional<NodeRow> node(String nodeId) throws FleetStorageException {
    return db.run(
        "reading node '" + nodeId + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT " + NODE_COLUMNS + " FROM nodes WHERE node_id = ?")) {
            ps.setString(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(nodeRow(rs)) : Optional.empty();
            }
          }
        });
  }

  /** A page of nodes ordered by id, after the cursor {@code after} (a node id), filtered. */
  public Page<NodeRow> nodes(NodeFilter f, String after, int limit) throws FleetStorageException {
    int n = Math.max(1, Math.min(limit, MAX_PAGE));
    StringBuilder sql = new StringBuilder("SELECT " + NODE_COLUMNS + " FROM nodes WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (after != null) {
      sql.append(" AND node_id > ?");
      args.add(after);
    }
    if (f.status() != null) {
      sql.append(" AND status = ?");
      args.add(f.status());
    }
    if (f.site() != null) {
      sql.append(" AND site = ?");
      args.add(f.site());
    }
    if (f.model() != null) {
      sql.append(" AND model_name = ?");
      args.add(f.model());
    }
    if (f.search() != null) {
      sql.append(" AND node_id LIKE ? ESCAPE '!'");
      args.add(f.search().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
    }
    if (f.label() != null) {
      // Labels are stored as compact JSON with sorted keys, so "key":"value" is an exact substring.
      int eq = f.label().indexOf('=');
      String pair = labelsJson(Map.of(f.label().substring(0, eq), f.label().substring(eq + 1)));
      String inner = pair.substring(1, pair.length() - 1);
      sql.append(" AND labels_json LIKE ? ESCAPE '!'");
      args.add("%" + inner.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
    }
    sql.append(" ORDER BY node_id FETCH FIRST ").append(n + 1).append(" ROWS ONLY");
    return db.run(
        "listing nodes",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
              ps.setObject(i + 1, args.get(i));
            }
            List<NodeRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows.add(nodeRow(rs));
              }
            }
            if (rows.size() > n) {
              rows = rows.subList(0, n);
              return new Page<>(rows, rows.get(n - 1).nodeId());
            }
            return new Page<>(rows, null);
          }
        });
  }

  /** Every node as the rollout engine sees it. */
  public List<FleetNode> fleetNodes() throws FleetStorageException {
    return db.run(
        "reading the fleet",
        c -> {
          List<FleetNode> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT node_id, site, status, arch, device_class, ram_bytes, labels_json,"
                          + " model_name, model_version, model_digest FROM nodes");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String digest = rs.getString("model_digest");
              ModelRef model =
                  digest == null
                      ? null
                      : ModelRef.of(
                          rs.getString("model_name"), rs.getLong("model_version"), digest);
              out.add(
                  new FleetNode(
                      rs.getString("node_id"),
                      rs.getString("site"),
                      "online".equals(rs.getString("status")),
                      String.valueOf(rs.getString("arch")),
                      String.valueOf(rs.getString("device_class")),
                      rs.getLong("ram_bytes"),
                      labels(rs.getString("labels_json")),
                      model));
            }
          }
          return out;
        });
  }

  /** The maximum packet sizes nodes stated in their birth messages, for the nodes that did. */
  public Map<String, Long> maxPacketBytes() throws FleetStorageException {
    return db.run(
        "reading the nodes' maximum packet sizes",
        c -> {
          Map<String, Long> out = new java.util.HashMap<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT node_id, max_packet_bytes FROM nodes"
                          + " WHERE max_packet_bytes IS NOT NULL");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.put(rs.getString(1), rs.getLong(2));
            }
          }
          return out;
        });
  }

  /** Counts of nodes by status. */
  public Map<String, Long> countByStatus() throws FleetStorageException {
    return db.run(
        "counting nodes",
        c -> {
          Map<String, Long> out = new TreeMap<>();
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT status, COUNT(*) FROM nodes GROUP BY status");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.put(rs.getString(1), rs.getLong(2));
            }
          }
          return out;
        });
  }

  /** Counts of nodes by serving model, {@code name v{version}} or {@code rules only}. */
  public Map<String, Long> countByModel() throws FleetStorageException {
    return db.run(
        "counting models",
        c -> {
          Map<String, Long> out = new LinkedHashMap<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT model_name, model_version, COUNT(*) FROM nodes GROUP BY model_name,"
                          + " model_version ORDER BY COUNT(*) DESC, model_name, model_version");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String name = rs.getString(1);
              out.put(name == null ? "rules only" : name + " v" + rs.getLong(2), rs.getLong(3));
            }
          }
          return out;
        });
  }

  /** The node's newest health message (kept in place, one row per node), or empty. */
  public Optional<HealthPoint> latestHealth(String nodeId) throws FleetStorageException {
    return history.latest(nodeId);
  }

  /**
   * The node's health history overlapping {@code [from, to)}, newest first, at most {@code limit}
   * points: one per 5-minute bucket while those are kept, else one per hour (see {@link
   * HealthPoint}).
   */
  public List<HealthPoint> health(String nodeId, Instant from, Instant to, int limit)
      throws FleetStorageException {
    return history.points(nodeId, from, to, limit);
  }

  /** The node's journal, newest first, at most {@code limit} entries. */
  public List<JournalRow> journal(String nodeId, int limit) throws FleetStorageException {
    return db.run(
        "reading the journal of node '" + nodeId + "'",
        c -> {
          List<JournalRow> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT * FROM node_journal WHERE node_id = ? ORDER BY seq DESC FETCH FIRST "
                      + Math.max(1, Math.min(limit, MAX_PAGE))
                      + " ROWS ONLY")) {
            ps.setString(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new JournalRow(
                        rs.getLong("seq"),
                        Db.time(rs, "at"),
                        rs.getString("event"),
                        rs.getString("assignment_id"),
                        rs.getString("command_id"),
                        rs.getString("model_digest"),
                        rs.getString("detail")));
              }
            }
          }
          return out;
        });
  }

  /**
   * The latest progress of every assignment whose id starts with {@code rolloutId + "."}, by node
   * id. A node reports progress at QoS 0 while it fetches and activates, so a node may have none.
   */
  public Map<String, DownloadProgress> progress(String rolloutId) throws FleetStorageException {
    return db.run(
        "reading download progress of rollout '" + rolloutId + "'",
        c -> {
          Map<String, DownloadProgress> out = new HashMap<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT node_id, assignment_id, phase, bytes_done, bytes_total, at"
                      + " FROM update_progress WHERE assignment_id LIKE ? ESCAPE '!'")) {
            ps.setString(
                1, rolloutId.replace("!", "!!").replace("_", "!_").replace("%", "!%") + ".%");
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.put(rs.getString("node_id"), progressRow(rs));
              }
            }
          }
          return out;
        });
  }

  /**
   * The node's newest progress report for an assignment it has reported no result for yet, or
   * empty: what the node is fetching or activating now. Progress travels at QoS 0, so a node that
   * is busy may have none, and one whose assignment was cancelled without a result keeps its last
   * report (its time says how old it is).
   */
  public Optional<DownloadProgress> currentProgress(String nodeId) throws FleetStorageException {
    return db.run(
        "reading download progress of node '" + nodeId + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT p.node_id, p.assignment_id, p.phase, p.bytes_done, p.bytes_total, p.at"
                      + " FROM update_progress p WHERE p.node_id = ? AND NOT EXISTS (SELECT 1"
                      + " FROM update_results r WHERE r.node_id = p.node_id"
                      + " AND r.assignment_id = p.assignment_id)"
                      + " ORDER BY p.at DESC FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.<DownloadProgress>empty();
              }
              return Optional.of(progressRow(rs));
            }
          }
        });
  }

  /** The current row of a query over {@code update_progress}'s columns. */
  private static DownloadProgress progressRow(ResultSet rs) throws SQLException {
    return new DownloadProgress(
        rs.getString("node_id"),
        rs.getString("assignment_id"),
        rs.getString("phase"),
        rs.getLong("bytes_done"),
        rs.getLong("bytes_total"),
        Db.time(rs, "at"));
  }

  /** Final results of every assignment whose id starts with {@code rolloutId + "."}, by node id. */
  public Map<String, InstallResult> results(String rolloutId) throws FleetStorageException {
    return db.run(
        "reading results of rollout '" + rolloutId + "'",
        c -> {
          Map<String, InstallResult> out = new HashMap<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT node_id, assignment_id, outcome, at, reason FROM update_results"
                      + " WHERE assignment_id LIKE ? ESCAPE '!'")) {
            ps.setString(
                1, rolloutId.replace("!", "!!").replace("_", "!_").replace("%", "!%") + ".%");
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                String outcome = rs.getString("outcome");
                out.put(
                    rs.getString("assignment_id"),
                    new InstallResult(
                        "activated".equals(outcome),
                        Db.time(rs, "at"),
                        "activated".equals(outcome)
                            ? null
                            : outcome
                                + (rs.getString("reason") == null
                                    ? ""
                                    : ": " + rs.getString("reason"))));
              }
            }
          }
          return out;
        });
  }

  /**
   * The node's health aggregated while it served {@code digest}, over the history buckets that
   * overlap {@code [from, to)} (the bucket holding {@code from} counts whole).
   */
  public Optional<ModelMetrics> metrics(String nodeId, String digest, Instant from, Instant to)
      throws FleetStorageException {
    return history.metrics(nodeId, digest, from, to);
  }

  private static NodeRow nodeRow(ResultSet rs) throws SQLException {
    String digest = rs.getString("model_digest");
    ModelRef model =
        digest == null
            ? null
            : ModelRef.of(rs.getString("model_name"), rs.getLong("model_version"), digest);
    return new NodeRow(
        rs.getString("node_id"),
        rs.getString("site"),
        rs.getString("agent_version"),
        rs.getString("arch"),
        rs.getString("device_class"),
        Db.longOrNull(rs, "ram_bytes"),
        labels(rs.getString("labels_json")),
        model,
        Db.longOrNull(rs, "max_packet_bytes"),
        Db.time(rs, "booted_at"),
        Db.time(rs, "birth_at"),
        rs.getString("status"),
        Db.time(rs, "status_since"),
        rs.getString("status_reason"),
        Db.boolOrNull(rs, "ready"),
        Db.time(rs, "last_health_at"),
        Db.time(rs, "first_seen_at"),
        Db.time(rs, "last_seen_at"),
        rs.getLong("journal_seq"));
  }

  static String labelsJson(Map<String, String> labels) {
    try {
      return Json.mapper().writeValueAsString(new TreeMap<>(labels));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("labels are strings and always serialize", e);
    }
  }

  static Map<String, String> labels(String json) {
    if (json == null || json.isEmpty()) {
      return Map.of();
    }
    try {
      return Json.mapper().readValue(json, LABELS);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored labels are not JSON: " + e.getOriginalMessage(), e);
    }
  }
}
