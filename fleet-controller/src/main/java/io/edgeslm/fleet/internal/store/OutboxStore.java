package io.edgeslm.fleet.internal.store;

import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.RolloutAction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The transactional outbox of node messages and the record of which assignment is retained on each
 * node (tables {@code outbox} and {@code retained_assignments}, migration V2).
 *
 * <p>Rows are written inside the transaction that stores a rollout step (or records a final
 * result), already claimed by the writing replica for a lease; the writer publishes them right
 * after the commit and deletes them. A row whose lease ran out (the writer stopped, or a publish
 * failed) is claimed by another replica, or by the writer's next incarnation at start, and
 * published again: delivery is at least once, and nodes drop an assignment or command id they have
 * seen.
 */
public final class OutboxStore {

  /** What a row publishes. */
  public enum Kind {
    /** The retained update assignment. */
    DISPATCH,
    /** A {@code cancel} command. */
    CANCEL,
    /** A {@code rollback} command. */
    ROLLBACK,
    /** An empty retained message that clears the assignment topic. */
    CLEAR,
    /**
     * A {@code rollback} command a release manager sent to one node outside any rollout; the row's
     * {@code assignmentId} holds the command id (there is no assignment).
     */
    NODE_ROLLBACK
  }

  /**
   * One queued message.
   *
   * @param batchId the writing transaction's batch
   * @param seq position in the batch
   * @param rolloutId the rollout, or null for a clear after a result
   * @param bundleId the rollout's bundle, for a dispatch
   * @param chunkBytes the assignment's chunk size, for a dispatch
   * @param reason the operator's reason for a command, or null
   * @param createdAt when queued (the assignment's {@code issuedAt})
   */
  public record Row(
      String batchId,
      int seq,
      Kind kind,
      String rolloutId,
      String bundleId,
      String site,
      String nodeId,
      String assignmentId,
      Integer chunkBytes,
      String reason,
      Instant createdAt) {}

  private final Db db;

  public OutboxStore(Db db) {
    this.db = db;
  }

  /**
   * Inside the caller's transaction: queues the messages of a rollout step's actions and updates
   * the retained-assignment record. A dispatch takes the node's retained slot; a cancel or rollback
   * queues its command, and a clear only if the slot still holds that very assignment.
   *
   * @param chunkBytesOf the chunk size of a node's new assignment, by node id
   * @return the queued rows, claimed by {@code owner} until {@code leaseUntil}
   */
  public List<Row> queueActions(
      Connection c,
      String rolloutId,
      String bundleId,
      List<RolloutAction> actions,
      java.util.function.ToIntFunction<String> chunkBytesOf,
      String reason,
      Instant now,
      String owner,
      Instant leaseUntil)
      throws SQLException {
    String batch = UUID.randomUUID().toString();
    List<Row> rows = new ArrayList<>();
    boolean dispatches = false;
    List<RolloutAction> withdrawn = new ArrayList<>();
    for (RolloutAction a : actions) {
      switch (a) {
        case RolloutAction.Dispatch d -> {
          dispatches = true;
          rows.add(
              row(
                  batch,
                  rows.size(),
                  Kind.DISPATCH,
                  rolloutId,
                  bundleId,
                  a,
                  chunkBytesOf.applyAsInt(a.nodeId()),
                  null,
                  now));
        }
        case RolloutAction.Cancel x -> {
          rows.add(row(batch, rows.size(), Kind.CANCEL, rolloutId, bundleId, a, null, reason, now));
          withdrawn.add(a);
        }
        case RolloutAction.Rollback r -> {
          rows.add(
              row(batch, rows.size(), Kind.ROLLBACK, rolloutId, bundleId, a, null, reason, now));
          withdrawn.add(a);
        }
      }
    }
    // Commands first, then the clears of the assignments the nodes still hold from this rollout.
    boolean[] released = release(c, withdrawn);
    for (int i = 0; i < withdrawn.size(); i++) {
      if (released[i]) {
        rows.add(
            row(
                batch,
                rows.size(),
                Kind.CLEAR,
                rolloutId,
                bundleId,
                withdrawn.get(i),
                null,
                null,
                now));
      }
    }
    insert(c, rows, owner, leaseUntil);
    if (dispatches) {
      // Each dispatched node's retained slot now holds the new assignment: two set statements
      // over this batch's rows rather than a delete and an insert per node.
      try (PreparedStatement del =
              c.prepareStatement(
                  "DELETE FROM retained_assignments WHERE node_id IN (SELECT node_id FROM outbox"
                      + " WHERE batch_id = ? AND kind = 'DISPATCH')");
          PreparedStatement ins =
              c.prepareStatement(
                  "INSERT INTO retained_assignments (node_id, assignment_id, rollout_id,"
                      + " chunk_bytes, at) SELECT node_id, assignment_id, rollout_id, chunk_bytes,"
                      + " created_at FROM outbox WHERE batch_id = ? AND kind = 'DISPATCH'")) {
        del.setString(1, batch);
        del.executeUpdate();
        ins.setString(1, batch);
        ins.executeUpdate();
      }
    }
    return rows;
  }

  private static Row row(
      String batch,
      int seq,
      Kind kind,
      String rolloutId,
      String bundleId,
      RolloutAction a,
      Integer chunkBytes,
      String reason,
      Instant now) {
    String assignmentId =
        switch (a) {
          case RolloutAction.Dispatch d -> d.assignmentId();
          case RolloutAction.Cancel x -> x.assignmentId();
          case RolloutAction.Rollback r -> r.assignmentId();
        };
    return new Row(
        batch,
        seq,
        kind,
        rolloutId,
        bundleId,
        a.site(),
        a.nodeId(),
        assignmentId,
        chunkBytes,
        reason == null || reason.length() <= 500 ? reason : reason.substring(0, 500),
        now);
  }

  /**
   * After a node's final result: queues a clear of its retained assignment, but only if the
   * retained assignment is still {@code assignmentId} (another rollout may have replaced it).
   *
   * @return the queued clear, or empty if the slot holds another assignment or none
   */
  public List<Row> queueClear(
      String site,
      String nodeId,
      String assignmentId,
      Instant now,
      String owner,
      Instant leaseUntil)
      throws FleetStorageException {
    return db.tx(
        "queueing the clear of assignment '" + assignmentId + "'",
        c -> {
          if (!release(c, nodeId, assignmentId)) {
            return List.of();
          }
          List<Row> rows =
              List.of(
                  new Row(
                      UUID.randomUUID().toString(),
                      0,
                      Kind.CLEAR,
                      null,
                      null,
                      site,
                      nodeId,
                      assignmentId,
                      null,
                      null,
                      now));
          insert(c, rows, owner, leaseUntil);
          return rows;
        });
  }

  /**
   * Queues a rollback command to one node outside any rollout, in its own transaction. The node's
   * retained assignment is left alone: the command changes what the node serves, not what it was
   * assigned.
   *
   * @param commandId the command's id, stored in the row's assignment column
   * @return the queued row, claimed by {@code owner} until {@code leaseUntil}
   */
  public List<Row> queueNodeRollback(
      String site,
      String nodeId,
      String commandId,
      String reason,
      Instant now,
      String owner,
      Instant leaseUntil)
      throws FleetStorageException {
    return db.tx(
        "queueing rollback command '" + commandId + "'",
        c -> {
          List<Row> rows =
              List.of(
                  new Row(
                      UUID.randomUUID().toString(),
                      0,
                      Kind.NODE_ROLLBACK,
                      null,
                      null,
                      site,
                      nodeId,
                      commandId,
                      null,
                      reason == null || reason.length() <= 500 ? reason : reason.substring(0, 500),
                      now));
          insert(c, rows, owner, leaseUntil);
          return rows;
        });
  }

  /**
   * Removes each node's retained-assignment record if it holds the action's assignment, in one
   * batch.
   *
   * @return per action, whether its record was removed (so its clear may be sent)
   */
  private static boolean[] release(Connection c, List<RolloutAction> actions) throws SQLException {
    boolean[] out = new boolean[actions.size()];
    if (actions.isEmpty()) {
      return out;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM retained_assignments WHERE node_id = ? AND assignment_id = ?")) {
      for (RolloutAction a : actions) {
        ps.setString(1, a.nodeId());
        ps.setString(
            2,
            switch (a) {
              case RolloutAction.Cancel x -> x.assignmentId();
              case RolloutAction.Rollback r -> r.assignmentId();
              case RolloutAction.Dispatch d -> d.assignmentId();
            });
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      for (int i = 0; i < counts.length; i++) {
        // Drivers that cannot tell report SUCCESS_NO_INFO; a clear is then sent, as before V2.
        out[i] = counts[i] == 1 || counts[i] == java.sql.Statement.SUCCESS_NO_INFO;
      }
    }
    return out;
  }

  /** Removes the node's retained-assignment record if it holds {@code assignmentId}. */
  private static boolean release(Connection c, String nodeId, String assignmentId)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM retained_assignments WHERE node_id = ? AND assignment_id = ?")) {
      ps.setString(1, nodeId);
      ps.setString(2, assignmentId);
      return ps.executeUpdate() == 1;
    }
  }

  private static void insert(Connection c, List<Row> rows, String owner, Instant leaseUntil)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO outbox (batch_id, seq, kind, rollout_id, bundle_id, site, node_id,"
                + " assignment_id, chunk_bytes, reason, created_at, claimed_by, claimed_until)"
                + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
      for (Row r : rows) {
        ps.setString(1, r.batchId());
        ps.setInt(2, r.seq());
        ps.setString(3, r.kind().name());
        ps.setString(4, r.rolloutId());
        ps.setString(5, r.bundleId());
        ps.setString(6, r.site());
        ps.setString(7, r.nodeId());
        ps.setString(8, r.assignmentId());
        ps.setObject(9, r.chunkBytes(), java.sql.Types.INTEGER);
        ps.setString(10, r.reason());
        Db.setTime(ps, 11, r.createdAt());
        ps.setString(12, owner);
        Db.setTime(ps, 13, leaseUntil);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * Claims up to {@code limit} rows whose lease ran out, oldest first, for {@code owner} until
   * {@code leaseUntil}. Each claim is a compare-and-set on the old lease, so two replicas never
   * claim the same row at once.
   */
  public List<Row> claimExpired(String owner, Instant now, Instant leaseUntil, int limit)
      throws FleetStorageException {
    return db.tx(
        "claiming outbox rows",
        c -> {
          List<Row> candidates = new ArrayList<>();
          List<Instant> leases = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT batch_id, seq, kind, rollout_id, bundle_id, site, node_id,"
                      + " assignment_id, chunk_bytes, reason, created_at, claimed_until FROM outbox"
                      + " WHERE claimed_until < ? ORDER BY id FETCH FIRST "
                      + Math.max(1, limit)
                      + " ROWS ONLY")) {
            Db.setTime(ps, 1, now);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                candidates.add(
                    new Row(
                        rs.getString("batch_id"),
                        rs.getInt("seq"),
                        Kind.valueOf(rs.getString("kind")),
                        rs.getString("rollout_id"),
                        rs.getString("bundle_id"),
                        rs.getString("site"),
                        rs.getString("node_id"),
                        rs.getString("assignment_id"),
                        (Integer) rs.getObject("chunk_bytes", Integer.class),
                        rs.getString("reason"),
                        Db.time(rs, "created_at")));
                leases.add(Db.time(rs, "claimed_until"));
              }
            }
          }
          if (candidates.isEmpty()) {
            return List.of();
          }
          List<Row> claimed = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE outbox SET claimed_by = ?, claimed_until = ?"
                      + " WHERE batch_id = ? AND seq = ? AND claimed_until = ?")) {
            for (int i = 0; i < candidates.size(); i++) {
              Row r = candidates.get(i);
              ps.setString(1, owner);
              Db.setTime(ps, 2, leaseUntil);
              ps.setString(3, r.batchId());
              ps.setInt(4, r.seq());
              Db.setTime(ps, 5, leases.get(i));
              if (ps.executeUpdate() == 1) {
                claimed.add(r);
              }
            }
          }
          return claimed;
        });
  }

  /**
   * Makes the rows {@code owner} had claimed available at once. Called when a replica starts:
   * whatever its previous run claimed and did not delete was not (or not surely) published.
   */
  public int releaseClaimsOf(String owner) throws FleetStorageException {
    return db.run(
        "releasing outbox claims of '" + owner + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE outbox SET claimed_until = ? WHERE claimed_by = ? AND claimed_until > ?")) {
            Db.setTime(ps, 1, Instant.EPOCH);
            ps.setString(2, owner);
            Db.setTime(ps, 3, Instant.EPOCH);
            return ps.executeUpdate();
          }
        });
  }

  /** Deletes published rows; a whole batch with one statement. */
  public void delete(List<Row> rows, boolean wholeBatch) throws FleetStorageException {
    if (rows.isEmpty()) {
      return;
    }
    db.run(
        "deleting published outbox rows",
        c -> {
          if (wholeBatch) {
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM outbox WHERE batch_id = ?")) {
              ps.setString(1, rows.get(0).batchId());
              return ps.executeUpdate();
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM outbox WHERE batch_id = ? AND seq = ?")) {
            for (Row r : rows) {
              ps.setString(1, r.batchId());
              ps.setInt(2, r.seq());
              ps.addBatch();
            }
            ps.executeBatch();
          }
          return rows.size();
        });
  }

  /** Rows waiting to be published (claimed or not). */
  public long pending() throws FleetStorageException {
    return db.run(
        "counting outbox rows",
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM outbox")) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  /** The assignment retained on the node's topic as far as the controller knows, or null. */
  public String retainedAssignment(String nodeId) throws FleetStorageException {
    return db.run(
        "reading the retained assignment of '" + nodeId + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT assignment_id FROM retained_assignments WHERE node_id = ?")) {
            ps.setString(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? rs.getString(1) : null;
            }
          }
        });
  }

  /**
   * The chunk size of the assignment retained for the node, if it is {@code assignmentId}.
   *
   * @return the chunk size, or null if the node's retained assignment is another or none
   */
  public Integer chunkBytesOf(String nodeId, String assignmentId) throws FleetStorageException {
    return db.run(
        "reading the chunk size of assignment '" + assignmentId + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT chunk_bytes FROM retained_assignments"
                      + " WHERE node_id = ? AND assignment_id = ?")) {
            ps.setString(1, nodeId);
            ps.setString(2, assignmentId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? rs.getInt(1) : null;
            }
          }
        });
  }
}
