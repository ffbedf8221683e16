package io.edgeslm.fleet.internal.store;

import io.edgeslm.fleet.TestDatabases;
import javax.sql.DataSource;

/** The store against an embedded H2 file database, a fresh one per test. */
class StoreH2IT extends StoreContract {

  @Override
  DataSource freshDatabase() {
    return TestDatabases.h2();
  }

  @Override
  DataSource emptyDatabase() {
    return TestDatabases.unmigratedH2();
  }
}
