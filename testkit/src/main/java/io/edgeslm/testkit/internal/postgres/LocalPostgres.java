package io.edgeslm.testkit.internal.postgres;

import io.edgeslm.testkit.HarnessUnavailableException;
import io.edgeslm.testkit.PostgresDatabase;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** A fresh database on a PostgreSQL server reached over JDBC with an admin user. */
public final class LocalPostgres implements PostgresDatabase {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  private final String host;
  private final int port;
  private final String user;
  private final String password;
  private final String adminDatabase;
  private final String name;

  LocalPostgres(
      String host, int port, String user, String password, String adminDatabase, String name) {
    this.host = host;
    this.port = port;
    this.user = user;
    this.password = password;
    this.adminDatabase = adminDatabase;
    this.name = name;
  }

  public static PostgresDatabase create() throws HarnessUnavailableException {
    String host = env("PGHOST", "127.0.0.1");
    int port = Integer.parseInt(env("PGPORT", "5432"));
    List<String> users =
        System.getenv("PGUSER") != null
            ? List.of(System.getenv("PGUSER"))
            : List.of("postgres", "root");
    List<String> errors = new ArrayList<>();
    for (String user : users) {
      for (String adminDb : List.of("postgres", "test", "template1")) {
        try {
          return createOn(host, port, user, "", adminDb);
        } catch (SQLException e) {
          errors.add(user + "@" + adminDb + ": " + e.getMessage());
        }
      }
    }
    throw new HarnessUnavailableException(
        "PostgreSQL is not reachable on "
            + host
            + ":"
            + port
            + " as user "
            + String.join(" or ", users)
            + ": install it with apt-get install postgresql and start it, or run ./run-tests."
            + " Errors: "
            + String.join("; ", errors));
  }

  /** Creates a fresh database on {@code host:port} as {@code user}, via {@code adminDb}. */
  static LocalPostgres createOn(String host, int port, String user, String password, String adminDb)
      throws SQLException {
    String name = randomName();
    try (Connection c = adminConnection(host, port, adminDb, user, password);
        Statement s = c.createStatement()) {
      // The name is generated from a fixed alphabet, so quoting is enough to make it safe.
      s.execute("CREATE DATABASE \"" + name + "\"");
    }
    return new LocalPostgres(host, port, user, password, adminDb, name);
  }

  static String randomName() {
    StringBuilder sb = new StringBuilder("edgeslm_");
    for (int i = 0; i < 16; i++) {
      sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }

  private static Connection adminConnection(
      String host, int port, String db, String user, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("connectTimeout", "5");
    return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + db, p);
  }

  private static String env(String key, String fallback) {
    String v = System.getenv(key);
    return v == null || v.isBlank() ? fallback : v;
  }

  @Override
  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + name;
  }

  @Override
  public String user() {
    return user;
  }

  @Override
  public String password() {
    return password;
  }

  @Override
  public String databaseName() {
    return name;
  }

  @Override
  public void close() {
    try (Connection c = adminConnection(host, port, adminDatabase, user, password);
        Statement s = c.createStatement()) {
      // FORCE (PostgreSQL 13+) ends sessions a test left open, which would block the drop.
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
    } catch (SQLException ignored) {
      // cleanup must not hide the test's own result; a leftover edgeslm_* database is harmless
    }
  }

  @Override
  public String toString() {
    return "PostgreSQL database " + jdbcUrl();
  }
}
