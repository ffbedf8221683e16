package io.edgeslm.fleet.internal.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.edgeslm.fleet.AuditEvent;
import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.RolloutState;
import io.edgeslm.fleet.RolloutStatus;
import io.edgeslm.protocol.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Rollouts and their audit trail. Every write of a state is a compare-and-set on its revision, so
 * of two replicas that computed the same step only one stores it, and only that one sends the
 * step's messages.
 */
public final class RolloutStore {

  private static final ObjectMapper STATE_JSON = stateMapper();

  /**
   * The protocol mapper, durations as text, and field names neither interned nor kept in a symbol
   * table: a state holds one map key per target node (100,000 in a wave to a whole fleet), read on
   * every tick, and interning each of them cost seconds per read at that size.
   */
  private static ObjectMapper stateMapper() {
    ObjectMapper m =
        Json.mapper().copy().disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);
    m.getFactory()
        .configure(com.fasterxml.jackson.core.JsonFactory.Feature.INTERN_FIELD_NAMES, false)
        .configure(com.fasterxml.jackson.core.JsonFactory.Feature.CANONICALIZE_FIELD_NAMES, false);
    return m;
  }

  private final Db db;

  public RolloutStore(Db db) {
    this.db = db;
  }

  /** Stores a new rollout with its first audit entries. */
  public void create(RolloutState state, List<AuditEvent> audit)
      throws FleetStorageException, FleetConflictException {
    boolean created =
        db.tx(
            "creating rollout '" + state.id() + "'",
            c -> {
              try (PreparedStatement check =
                  c.prepareStatement("SELECT 1 FROM rollouts WHERE rollout_id = ?")) {
                check.setString(1, state.id());
                try (ResultSet rs = check.executeQuery()) {
                  if (rs.next()) {
                    return false;
                  }
                }
              }
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "INSERT INTO rollouts (rollout_id, name, bundle_id, status, revision,"
                          + " state_json, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)")) {
                ps.setString(1, state.id());
                ps.setString(2, state.plan().name());
                ps.setString(3, state.plan().bundleId());
                ps.setString(4, status(state.status()));
                ps.setLong(5, state.revision());
                ps.setString(6, json(state));
                Db.setTime(ps, 7, state.createdAt());
                Db.setTime(ps, 8, state.updatedAt());
                ps.executeUpdate();
              }
              insertAudit(c, audit);
              return true;
            });
    if (!created) {
      throw new FleetConflictException(
          "A rollout with id '" + state.id() + "' exists already. Choose another id.");
    }
  }

  /**
   * Stores {@code next} if the stored revision is still {@code expectedRevision}.
   *
   * @return true if stored; false if another writer stored a newer state first
   */
  public boolean compareAndSet(RolloutState next, long expectedRevision, List<AuditEvent> audit)
      throws FleetStorageException {
    return compareAndSet(next, expectedRevision, audit, c -> Boolean.TRUE).isPresent();
  }

  /**
   * Stores {@code next} if the stored revision is still {@code expectedRevision}, and runs {@code
   * alsoInTx} in the same transaction (the outbox rows of the step's messages), so the state and
   * its messages are stored together or not at all.
   *
   * @return what {@code alsoInTx} returned if stored; empty if another writer stored a newer state
   *     first (then {@code alsoInTx} did not run)
   */
  public <T> Optional<T> compareAndSet(
      RolloutState next, long expectedRevision, List<AuditEvent> audit, Db.TxWork<T> alsoInTx)
      throws FleetStorageException {
    return db.tx(
        "storing rollout '" + next.id() + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE rollouts SET status = ?, revision = ?, state_json = ?, updated_at = ?"
                      + " WHERE rollout_id = ? AND revision = ?")) {
            ps.setString(1, status(next.status()));
            ps.setLong(2, next.revision());
            ps.setString(3, json(next));
            Db.setTime(ps, 4, next.updatedAt());
            ps.setString(5, next.id());
            ps.setLong(6, expectedRevision);
            if (ps.executeUpdate() != 1) {
              return Optional.<T>empty();
            }
          }
          insertAudit(c, audit);
          return Optional.of(alsoInTx.run(c));
        });
  }

  public Optional<RolloutState> load(String id) throws FleetStorageException {
    return db.run(
        "reading rollout '" + id + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT state_json FROM rollouts WHERE rollout_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(parse(rs.getString(1))) : Optional.empty();
            }
          }
        });
  }

  /** Ids of rollouts the engine still ticks: running, paused or completed. */
  public List<String> activeIds() throws FleetStorageException {
    return db.run(
        "listing active rollouts",
        c -> {
          List<String> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT rollout_id FROM rollouts WHERE status IN ('running', 'paused',"
                          + " 'completed') ORDER BY created_at");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(rs.getString(1));
            }
          }
          return out;
        });
  }

  /** A page of rollouts, newest id last, after cursor {@code after} (a rollout id). */
  public Page<RolloutState> list(String status, String after, int limit)
      throws FleetStorageException {
    int n = Math.max(1, Math.min(limit, NodeStore.MAX_PAGE));
    return db.run(
        "listing rollouts",
        c -> {
          StringBuilder sql = new StringBuilder("SELECT state_json FROM rollouts WHERE 1 = 1");
          List<String> args = new ArrayList<>();
          if (after != null) {
            sql.append(" AND rollout_id > ?");
            args.add(after);
          }
          if (status != null) {
            sql.append(" AND status = ?");
            args.add(status);
          }
          sql.append(" ORDER BY rollout_id FETCH FIRST ").append(n + 1).append(" ROWS ONLY");
          List<RolloutState> rows = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
              ps.setString(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows.add(parse(rs.getString(1)));
              }
            }
          }
          if (rows.size() > n) {
            rows = rows.subList(0, n);
            return new Page<>(rows, rows.get(n - 1).id());
          }
          return new Page<>(rows, null);
        });
  }

  /** Whether a rollout references the bundle. */
  public boolean usesBundle(String bundleId) throws FleetStorageException {
    return db.run(
        "checking rollouts of bundle '" + bundleId + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT 1 FROM rollouts WHERE bundle_id = ?")) {
            ps.setString(1, bundleId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  /** The rollout's audit trail, oldest first, at most {@code limit} entries. */
  public List<AuditEvent> audit(String id, int limit) throws FleetStorageException {
    return db.run(
        "reading the audit of rollout '" + id + "'",
        c -> {
          List<AuditEvent> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT at, actor, action, detail FROM rollout_audit WHERE rollout_id = ?"
                      + " ORDER BY id FETCH FIRST "
                      + Math.max(1, Math.min(limit, 5000))
                      + " ROWS ONLY")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new AuditEvent(
                        id,
                        Db.time(rs, "at"),
                        rs.getString("actor"),
                        rs.getString("action"),
                        rs.getString("detail")));
              }
            }
          }
          return out;
        });
  }

  private static void insertAudit(Connection c, List<AuditEvent> audit) throws SQLException {
    if (audit.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO rollout_audit (rollout_id, at, actor, action, detail)"
                + " VALUES (?,?,?,?,?)")) {
      for (AuditEvent e : audit) {
        ps.setString(1, e.rolloutId());
        Db.setTime(ps, 2, e.at());
        ps.setString(3, e.actor());
        ps.setString(4, e.action());
        String detail = e.detail();
        ps.setString(5, detail.length() > 4000 ? detail.substring(0, 3999) + "…" : detail);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  static String status(RolloutStatus s) {
    return s.name().toLowerCase(Locale.ROOT);
  }

  static String json(RolloutState state) {
    try {
      return STATE_JSON.writeValueAsString(state);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a rollout state always serializes", e);
    }
  }

  static RolloutState parse(String json) throws SQLException {
    try {
      return STATE_JSON.readValue(json, RolloutState.class);
    } catch (JsonProcessingException e) {
      throw new SQLException(
          "stored rollout state is unreadable: " + e.getOriginalMessage(), "22000", e);
    }
  }
}
