package io.edgeslm.fleet;

import javax.sql.DataSource;

/** The controller end to end on the local PostgreSQL. */
class ControllerPostgresIT extends ControllerContract {

  @Override
  DataSource freshDatabase() {
    return TestDatabases.postgres();
  }
}
