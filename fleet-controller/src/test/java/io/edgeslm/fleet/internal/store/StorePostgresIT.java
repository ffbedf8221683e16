package io.edgeslm.fleet.internal.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.fleet.TestDatabases;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

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

  /**
   * A roll-up holds the mark's row for its whole transaction (seconds for an hour of 100,000
   * nodes). Batches of the current hour must not wait for it: here another transaction holds the
   * row as a roll-up does, and a batch still commits; its messages are stored. (When every batch
   * held the row shared, this batch waited until the other transaction ended, and the soak's ingest
   * lag doubled.)
   */
  @Test
  void rollUpInProgress_doesNotHoldUpBatchesOfTheCurrentHour() throws Exception {
    clock.set(T0.plusSeconds(31));
    nodes.recordHealth(List.of(sample("gw-1", NEW, T0.plusSeconds(30), 10, 5)));
    try (var rollUp = db.connection()) {
      rollUp.setAutoCommit(false);
      try (var st = rollUp.createStatement()) {
        st.execute("SELECT closed_until FROM node_health_rollup WHERE id = 1 FOR UPDATE");
      }
      clock.set(T0.plusSeconds(61));
      CompletableFuture<Void> batch =
          CompletableFuture.runAsync(
              () -> {
                try {
                  nodes.recordHealth(List.of(sample("gw-1", NEW, T0.plusSeconds(60), 20, 5)));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      // Fails (times out) if the batch waits for the row; the other transaction is still open.
      batch.get(60, TimeUnit.SECONDS);
      assertThat(rollUp.isClosed()).isFalse();
      rollUp.rollback();
    }
    assertThat(stored(HealthTier.FIVE_MINUTES))
        .extracting(HealthBucket::samples)
        .containsExactly(2);
  }
}
