package io.edgeslm.fleet;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Fresh, migrated databases for tests: a new PostgreSQL database on the local server (one per call)
 * or a new H2 file database in a temporary directory.
 */
public final class TestDatabases {

  /** The local PostgreSQL server; override with -Dfleet.test.pg.host / .port / .user. */
  public static final String PG_HOST = System.getProperty("fleet.test.pg.host", "127.0.0.1");

  public static final int PG_PORT = Integer.getInteger("fleet.test.pg.port", 5432);
  public static final String PG_USER = System.getProperty("fleet.test.pg.user", "postgres");

  private static final java.util.List<String> CREATED =
      java.util.Collections.synchronizedList(new java.util.ArrayList<>());

  static {
    // Databases created by this JVM are dropped when it exits, so the shared server stays clean.
    Runtime.getRuntime().addShutdownHook(new Thread(TestDatabases::dropCreated));
  }

  private TestDatabases() {}

  private static void dropCreated() {
    String admin = "jdbc:postgresql://" + PG_HOST + ":" + PG_PORT + "/postgres";
    try (Connection c = DriverManager.getConnection(admin, PG_USER, "");
        Statement s = c.createStatement()) {
      for (String name : CREATED) {
        s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      }
    } catch (SQLException e) {
      System.err.println("could not drop test databases " + CREATED + ": " + e.getMessage());
    }
  }

  /** Creates an empty PostgreSQL database and returns its JDBC URL. */
  public static String newPostgresUrl() {
    String name = "fleet_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    String admin = "jdbc:postgresql://" + PG_HOST + ":" + PG_PORT + "/postgres";
    try (Connection c = DriverManager.getConnection(admin, PG_USER, "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
      CREATED.add(name);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "These tests need PostgreSQL at "
              + PG_HOST
              + ":"
              + PG_PORT
              + " with trust authentication for user '"
              + PG_USER
              + "' ("
              + e.getMessage()
              + "). Install and start it: apt-get install -y postgresql && service postgresql"
              + " start (or run scripts/ensure-test-services.sh).",
          e);
    }
    return "jdbc:postgresql://" + PG_HOST + ":" + PG_PORT + "/" + name;
  }

  /** A new migrated PostgreSQL database. */
  public static DataSource postgres() {
    return migrate(unmigratedPostgres(), null);
  }

  /** A new empty PostgreSQL database (migrate it with {@link #migrate}). */
  public static DataSource unmigratedPostgres() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(newPostgresUrl());
    ds.setUser(PG_USER);
    ds.setReWriteBatchedInserts(true);
    return ds;
  }

  /** The JDBC URL of a new H2 file database in PostgreSQL mode. */
  public static String newH2Url() {
    try {
      Path dir = Files.createTempDirectory("fleet-h2-");
      return "jdbc:h2:file:" + dir.resolve("fleet") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE";
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot create a temporary directory: " + e.getMessage(), e);
    }
  }

  /** A new migrated H2 database. */
  public static DataSource h2() {
    return migrate(unmigratedH2(), null);
  }

  /** A new empty H2 database (migrate it with {@link #migrate}). */
  public static DataSource unmigratedH2() {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL(newH2Url());
    ds.setUser("sa");
    return ds;
  }

  /**
   * Migrates with the controller's migrations (the portable ones and the database's own, as
   * application.properties configures them), up to {@code target} or the newest if null.
   */
  public static DataSource migrate(DataSource ds, String target) {
    String vendor = ds instanceof PGSimpleDataSource ? "postgresql" : "h2";
    var config =
        Flyway.configure()
            .dataSource(ds)
            .locations("classpath:db/migration", "classpath:db/vendor/" + vendor);
    if (target != null) {
      config = config.target(target);
    }
    config.load().migrate();
    return ds;
  }
}
