package io.edgeslm.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension giving a test class a fresh database, created before its first test and dropped
 * after its last. Register it on a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final PostgresDatabaseExtension DB = PostgresDatabaseExtension.forTests();
 *
 * @Test
 * void stores() throws Exception { try (Connection c = DB.database().connect()) { ... } }
 * }</pre>
 *
 * Test methods may also declare a {@link PostgresDatabase} parameter. A database that cannot be
 * created fails the tests with the harness's message; nothing is skipped.
 */
public final class PostgresDatabaseExtension
    implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

  /** Creates the database; may throw the harness's exception. */
  @FunctionalInterface
  public interface Factory {
    PostgresDatabase create() throws HarnessUnavailableException;
  }

  private final Factory factory;
  private PostgresDatabase database;

  private PostgresDatabaseExtension(Factory factory) {
    this.factory = factory;
  }

  /** Uses {@link PostgresDatabase#forTests()}. */
  public static PostgresDatabaseExtension forTests() {
    return new PostgresDatabaseExtension(PostgresDatabase::forTests);
  }

  /** Uses the local PostgreSQL ({@link PostgresDatabase#createLocal()}). */
  public static PostgresDatabaseExtension local() {
    return new PostgresDatabaseExtension(PostgresDatabase::createLocal);
  }

  /** Any other way of making a database. */
  public static PostgresDatabaseExtension of(Factory factory) {
    return new PostgresDatabaseExtension(factory);
  }

  /**
   * The database of the running test class.
   *
   * @throws IllegalStateException outside the class's lifecycle (e.g. on a non-static field)
   */
  public PostgresDatabase database() {
    if (database == null) {
      throw new IllegalStateException(
          "No database: register PostgresDatabaseExtension on a static field with"
              + " @RegisterExtension.");
    }
    return database;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    database = factory.create();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (database != null) {
      database.close();
      database = null;
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == PostgresDatabase.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return database();
  }
}
