package io.edgeslm.testkit;

import io.edgeslm.testkit.internal.postgres.ContainerPostgres;
import io.edgeslm.testkit.internal.postgres.LocalPostgres;
import io.edgeslm.testkit.internal.process.Docker;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;

/**
 * A fresh, empty PostgreSQL database for one test class, dropped on {@link #close()}.
 *
 * <p>{@link #createLocal()} creates {@code edgeslm_<random>} on the machine's PostgreSQL
 * (127.0.0.1:5432, trust authentication; the admin user is {@code postgres}, else {@code root}; the
 * libpq variables {@code PGHOST}, {@code PGPORT} and {@code PGUSER} override these). {@link
 * #createInContainer()} runs PostgreSQL in a Testcontainers container where a Docker engine exists.
 * Neither ever skips: failure is a {@link HarnessUnavailableException} saying what to install or
 * start.
 */
public interface PostgresDatabase extends AutoCloseable {

  /** JDBC URL of the fresh database. */
  String jdbcUrl();

  /** User to connect as. */
  String user();

  /** Password ("" under trust authentication). */
  String password();

  /** Name of the database, {@code edgeslm_} followed by 16 random lower-case letters/digits. */
  String databaseName();

  /** A new connection to the database; the caller closes it. */
  default Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), user(), password());
  }

  /**
   * Drops the database (closing other sessions on it first); errors are ignored so that cleanup
   * never hides a test's own failure.
   */
  @Override
  void close();

  /**
   * Creates a fresh database on the local PostgreSQL.
   *
   * @throws HarnessUnavailableException "PostgreSQL is not reachable on 127.0.0.1:5432 as user
   *     postgres or root: install it with apt-get install postgresql and start it, or run
   *     ./run-tests", with the driver's error
   */
  static PostgresDatabase createLocal() throws HarnessUnavailableException {
    return LocalPostgres.create();
  }

  /**
   * Creates a database in a PostgreSQL container ({@code postgres:16-alpine}). Needs a Docker
   * engine and {@code org.testcontainers:testcontainers} on the test class path.
   */
  static PostgresDatabase createInContainer() throws HarnessUnavailableException {
    if (!Docker.testcontainersPresent()) {
      throw new HarnessUnavailableException(
          "PostgresDatabase.createInContainer needs org.testcontainers:testcontainers on the test"
              + " class path; add it as a test dependency, or use createLocal().");
    }
    return ContainerPostgres.create();
  }

  /**
   * The database a test suite should use, chosen by {@code EDGESLM_TEST_DB}: {@code local} or
   * {@code container}. Unset, the local PostgreSQL if it answers, else a container when Docker
   * exists, else the local path's failure.
   */
  static PostgresDatabase forTests() throws HarnessUnavailableException {
    String choice = System.getenv("EDGESLM_TEST_DB");
    if (choice != null && !choice.isBlank()) {
      return switch (choice.trim().toLowerCase(Locale.ROOT)) {
        case "local" -> createLocal();
        case "container" -> createInContainer();
        default ->
            throw new HarnessUnavailableException(
                "EDGESLM_TEST_DB is '" + choice + "'; use local or container, or unset it.");
      };
    }
    try {
      return createLocal();
    } catch (HarnessUnavailableException local) {
      if (Docker.available()) {
        return createInContainer();
      }
      throw local;
    }
  }
}
