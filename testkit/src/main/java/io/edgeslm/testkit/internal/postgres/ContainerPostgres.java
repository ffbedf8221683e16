package io.edgeslm.testkit.internal.postgres;

import io.edgeslm.testkit.HarnessUnavailableException;
import io.edgeslm.testkit.PostgresDatabase;
import io.edgeslm.testkit.internal.process.Docker;
import java.sql.SQLException;
import java.time.Duration;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/** A PostgreSQL container holding one fresh database; the container goes away on close. */
public final class ContainerPostgres implements PostgresDatabase {
  public static final String IMAGE = "postgres:16-alpine";
  private static final int PORT = 5432;

  private final GenericContainer<?> container;
  private final LocalPostgres database;

  private ContainerPostgres(GenericContainer<?> container, LocalPostgres database) {
    this.container = container;
    this.database = database;
  }

  public static PostgresDatabase create() throws HarnessUnavailableException {
    if (!Docker.available()) {
      throw new HarnessUnavailableException(
          "No Docker engine is available for a PostgreSQL container. Start Docker, or use the"
              + " local PostgreSQL (apt-get install postgresql) through"
              + " PostgresDatabase.createLocal().");
    }
    GenericContainer<?> c =
        new GenericContainer<>(DockerImageName.parse(IMAGE))
            .withEnv("POSTGRES_HOST_AUTH_METHOD", "trust")
            .withExposedPorts(PORT)
            .waitingFor(
                Wait.forLogMessage(".*database system is ready to accept connections.*\\n", 2)
                    .withStartupTimeout(Duration.ofMinutes(2)));
    try {
      c.start();
      return new ContainerPostgres(
          c,
          LocalPostgres.createOn(c.getHost(), c.getMappedPort(PORT), "postgres", "", "postgres"));
    } catch (RuntimeException | SQLException e) {
      String logs = "";
      try {
        logs = c.getLogs();
      } catch (RuntimeException ignored) {
        // the container may not exist
      }
      c.close();
      throw new HarnessUnavailableException(
          "The PostgreSQL container (" + IMAGE + ") did not start: " + e + ". Its log:\n" + logs,
          e);
    }
  }

  @Override
  public String jdbcUrl() {
    return database.jdbcUrl();
  }

  @Override
  public String user() {
    return database.user();
  }

  @Override
  public String password() {
    return database.password();
  }

  @Override
  public String databaseName() {
    return database.databaseName();
  }

  @Override
  public void close() {
    database.close();
    container.close();
  }
}
