package io.edgeslm.fleet.internal.store;

import io.edgeslm.fleet.TestDatabases;
import javax.sql.DataSource;

/** The store against the local PostgreSQL server, a fresh database per test. */
class StorePostgresIT extends StoreContract {

  @Override
  DataSource freshDatabase() {
    return TestDatabases.postgres();
  }

  @Override
  DataSource emptyDatabase() {
    return TestDatabases.unmigratedPostgres();
  }
}
