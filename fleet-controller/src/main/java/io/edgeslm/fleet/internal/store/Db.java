package io.edgeslm.fleet.internal.store;

import io.edgeslm.fleet.FleetStorageException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import javax.sql.DataSource;

/**
 * The controller's database: a data source plus the few facts that differ between PostgreSQL and
 * H2. Every SQL statement of the store classes is portable except the upserts, which {@link
 * #postgres()} selects.
 */
public final class Db {

  private final DataSource dataSource;
  private final boolean postgres;

  public Db(DataSource dataSource) throws FleetStorageException {
    this.dataSource = dataSource;
    try (Connection c = dataSource.getConnection()) {
      this.postgres = c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres");
    } catch (SQLException e) {
      throw new FleetStorageException(
          "Cannot connect to the controller database ("
              + e.getMessage()
              + "). Check quarkus.datasource.jdbc.url and that the database is running.",
          e);
    }
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /** Whether the database is PostgreSQL (else H2). */
  public boolean postgres() {
    return postgres;
  }

  public Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  /** Work inside one transaction. */
  @FunctionalInterface
  public interface TxWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs {@code work} in one transaction; commits if it returns, rolls back if it throws. */
  public <T> T tx(String what, TxWork<T> work) throws FleetStorageException {
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw failure(what, e);
    }
  }

  /** Runs {@code work} on a connection in auto-commit mode. */
  public <T> T run(String what, TxWork<T> work) throws FleetStorageException {
    try (Connection c = dataSource.getConnection()) {
      return work.run(c);
    } catch (SQLException e) {
      throw failure(what, e);
    }
  }

  /** Binds one row's parameters. */
  @FunctionalInterface
  public interface Binder<T> {
    void bind(PreparedStatement ps, T row) throws SQLException;
  }

  /**
   * Inserts rows, skipping those whose key exists. PostgreSQL does it in one batch with {@code ON
   * CONFLICT DO NOTHING}; H2 row by row, ignoring unique violations (H2 accepts that clause only in
   * some sessions of its PostgreSQL mode, and a failed statement does not abort an H2 transaction).
   *
   * @param insertSql a plain {@code INSERT ... VALUES (...)}
   */
  public <T> void insertIgnoring(Connection c, String insertSql, List<T> rows, Binder<T> binder)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    if (postgres) {
      try (PreparedStatement ps = c.prepareStatement(insertSql + " ON CONFLICT DO NOTHING")) {
        for (T row : rows) {
          binder.bind(ps, row);
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(insertSql)) {
      for (T row : rows) {
        binder.bind(ps, row);
        try {
          ps.executeUpdate();
        } catch (SQLException e) {
          if (!"23505".equals(e.getSQLState())) {
            throw e;
          }
        }
      }
    }
  }

  static FleetStorageException failure(String what, SQLException e) {
    return new FleetStorageException(
        "Database error while "
            + what
            + " (SQL state "
            + e.getSQLState()
            + ": "
            + e.getMessage()
            + "). Check the database's health and the controller log.",
        e);
  }

  static void setTime(PreparedStatement ps, int index, Instant at) throws SQLException {
    if (at == null) {
      ps.setObject(index, null);
    } else {
      ps.setObject(index, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
    }
  }

  static Instant time(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  static Long longOrNull(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  static Double doubleOrNull(ResultSet rs, String column) throws SQLException {
    double v = rs.getDouble(column);
    return rs.wasNull() ? null : v;
  }

  static Boolean boolOrNull(ResultSet rs, String column) throws SQLException {
    boolean v = rs.getBoolean(column);
    return rs.wasNull() ? null : v;
  }
}
