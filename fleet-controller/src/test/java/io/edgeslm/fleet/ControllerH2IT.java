package io.edgeslm.fleet;

import javax.sql.DataSource;

/** The controller end to end on an embedded H2 database. */
class ControllerH2IT extends ControllerContract {

  @Override
  DataSource freshDatabase() {
    return TestDatabases.h2();
  }
}
