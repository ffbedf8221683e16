package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Proves the database harness against the local PostgreSQL. */
class PostgresDatabaseIT {

  @RegisterExtension static final PostgresDatabaseExtension DB = PostgresDatabaseExtension.local();

  @Test
  void createLocal_twice_givesDistinctEmptyDatabasesThatAreDroppedOnClose() throws Exception {
    String nameA;
    String nameB;
    try (PostgresDatabase a = PostgresDatabase.createLocal();
        PostgresDatabase b = PostgresDatabase.createLocal()) {
      nameA = a.databaseName();
      nameB = b.databaseName();
      assertThat(nameA).matches("edgeslm_[a-z0-9]{16}").isNotEqualTo(nameB);
      try (Connection c = a.connect();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE node (id text PRIMARY KEY)");
        s.execute("INSERT INTO node VALUES ('n1')");
        assertThat(currentDatabase(c)).isEqualTo(nameA);
      }
      try (Connection c = b.connect()) {
        assertThat(currentDatabase(c)).isEqualTo(nameB);
        assertThat(tableExists(c, "node")).as("b does not see a's table").isFalse();
      }
      assertThat(exists(nameA)).isTrue();
      assertThat(exists(nameB)).isTrue();
    }
    assertThat(exists(nameA)).isFalse();
    assertThat(exists(nameB)).isFalse();
  }

  @Test
  void close_withASessionStillOpen_stillDropsTheDatabase() throws Exception {
    PostgresDatabase db = PostgresDatabase.createLocal();
    Connection leaked = db.connect();
    db.close();
    assertThat(exists(db.databaseName())).isFalse();
    leaked.close();
  }

  @Test
  void extension_injectsTheClassDatabase(PostgresDatabase injected) throws Exception {
    assertThat(injected).isSameAs(DB.database());
    try (Connection c = injected.connect()) {
      assertThat(currentDatabase(c)).isEqualTo(injected.databaseName());
    }
  }

  private static String currentDatabase(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT current_database()")) {
      r.next();
      return r.getString(1);
    }
  }

  private static boolean tableExists(Connection c, String table) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT count(*) FROM information_schema.tables WHERE table_name = ?")) {
      p.setString(1, table);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getInt(1) > 0;
      }
    }
  }

  /** Asks the server through the class's own database whether {@code name} exists. */
  private static boolean exists(String name) throws SQLException {
    try (Connection c = DB.database().connect();
        PreparedStatement p =
            c.prepareStatement("SELECT count(*) FROM pg_database WHERE datname = ?")) {
      p.setString(1, name);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getInt(1) > 0;
      }
    }
  }
}
