package io.edgeslm.fleet.internal.app;

import io.edgeslm.fleet.FleetException;
import io.edgeslm.fleet.internal.ask.AskService;
import io.edgeslm.fleet.internal.catalog.BundleFiles;
import io.edgeslm.fleet.internal.catalog.Catalog;
import io.edgeslm.fleet.internal.chunk.ChunkServer;
import io.edgeslm.fleet.internal.ingest.FleetIngest;
import io.edgeslm.fleet.internal.ingest.HealthWriter;
import io.edgeslm.fleet.internal.mqtt.FleetMqtt;
import io.edgeslm.fleet.internal.rollout.RolloutRunner;
import io.edgeslm.fleet.internal.store.CatalogStore;
import io.edgeslm.fleet.internal.store.Db;
import io.edgeslm.fleet.internal.store.HealthHistory;
import io.edgeslm.fleet.internal.store.NodeStore;
import io.edgeslm.fleet.internal.store.OutboxStore;
import io.edgeslm.fleet.internal.store.RolloutStore;
import io.edgeslm.fleet.internal.store.TokenStore;
import io.edgeslm.mqtt.MqttConfigurationException;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.protocol.Channel;
import io.edgeslm.protocol.Topics;
import io.edgeslm.signing.BundleVerifier;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * The controller core, wired from plain parts: stores over one database, the replica's one MQTT
 * connection (the shared layer, ADR 0023) beneath the registry ingest, the ask service, the chunk
 * server and the outbox of the rollout runner with its ticker, and the catalog. The Quarkus layer
 * creates one per process; tests and the benchmark create it directly.
 *
 * <p>The constructor creates the connection and every part registers its subscriptions on it;
 * {@link #start()} connects, so that the first connect already subscribes everything.
 */
public final class FleetController implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(FleetController.class);

  private final ControllerSettings settings;
  private final Clock clock;
  private final Db db;
  private final NodeStore nodes;
  private final RolloutStore rollouts;
  private final CatalogStore catalogStore;
  private final TokenStore tokens;
  private final MqttConnection mqtt;
  private final HealthWriter health;
  private final FleetIngest ingest;
  private final Catalog catalog;
  private final RolloutRunner runner;
  private final ChunkServer chunks;
  private final ScheduledExecutorService ticker;
  private final AskService ask;
  private final OutboxStore outbox;

  public FleetController(DataSource dataSource, ControllerSettings settings, Clock clock)
      throws FleetException, MqttConfigurationException {
    this.settings = settings;
    this.clock = clock;
    this.db = new Db(dataSource);
    this.nodes =
        new NodeStore(
            db,
            new HealthHistory.Retention(
                settings.healthDetailRetention(), settings.healthRetention()),
            clock);
    this.rollouts = new RolloutStore(db);
    this.catalogStore = new CatalogStore(db);
    this.tokens = new TokenStore(db);
    this.mqtt =
        FleetMqtt.connection(
            settings.mqttUri(),
            settings.clientId(),
            settings.mqttUsername(),
            settings.mqttPassword());
    this.health =
        new HealthWriter(
            nodes, clock, settings.healthQueue(), settings.healthBatch(), settings.healthWriters());
    this.outbox = new OutboxStore(db);
    this.catalog =
        new Catalog(
            catalogStore,
            rollouts,
            new BundleFiles(settings.bundlesDir()),
            BundleVerifier.of(settings.trust()),
            settings.chunkBytes(),
            clock);
    this.runner =
        new RolloutRunner(
            rollouts,
            nodes,
            catalog,
            mqtt,
            outbox,
            settings.clientId(),
            settings.outboxLease(),
            clock);
    this.ask = new AskService(mqtt, settings.clientId(), clock);
    this.ingest =
        new FleetIngest(mqtt, nodes, health, runner::clearAfterResult, ask::nodeOffline, clock);
    this.chunks =
        new ChunkServer(
            mqtt,
            catalog.files(),
            runner::bundleOfAssignment,
            settings.chunkBytesPerSecond(),
            10_000,
            256);
    ingest.subscribe(settings.shareGroup());
    mqtt.subscribe(
        Topics.sharedFilter(settings.shareGroup(), Channel.UPDATE_REQUEST), 1, chunks::onRequest);
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "fleet-rollout-ticker");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Connects (every subscription is registered already) and starts the rollout ticker, the outbox
   * drain and health pruning. Outbox rows this replica (by its client id) claimed in an earlier run
   * are published first.
   */
  public void start() {
    mqtt.start();
    long tick = settings.tickInterval().toMillis();
    try {
      runner.releaseOwnClaims();
    } catch (FleetException e) {
      LOG.warnf("cannot release earlier outbox claims: %s", e.getMessage());
    }
    // A created or commanded rollout is stepped at once, on the ticker's thread (one step at a
    // time per replica), rather than at the next tick.
    runner.onChange(
        id -> {
          try {
            ticker.execute(() -> runner.tickNow(id));
          } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
          }
        });
    ticker.scheduleWithFixedDelay(runner::tickAll, tick, tick, TimeUnit.MILLISECONDS);
    ticker.scheduleWithFixedDelay(
        () -> {
          if (mqtt.isConnected()) {
            runner.drainOutbox();
          }
        },
        0,
        Math.min(tick, 1000),
        TimeUnit.MILLISECONDS);
    long maintenance = settings.healthMaintenance().toMillis();
    ticker.scheduleWithFixedDelay(this::prune, maintenance, maintenance, TimeUnit.MILLISECONDS);
  }

  private void prune() {
    try {
      HealthHistory.Pruned p = nodes.pruneHealth();
      if (p.partitionsDropped() > 0 || p.rowsDeleted() > 0) {
        LOG.debugf(
            "health retention: %d partitions dropped, %d rows deleted",
            p.partitionsDropped(), p.rowsDeleted());
      }
    } catch (FleetException e) {
      LOG.warnf("health pruning failed: %s", e.getMessage());
    }
  }

  public NodeStore nodes() {
    return nodes;
  }

  public RolloutStore rollouts() {
    return rollouts;
  }

  public TokenStore tokens() {
    return tokens;
  }

  public Catalog catalog() {
    return catalog;
  }

  public RolloutRunner runner() {
    return runner;
  }

  public MqttConnection mqtt() {
    return mqtt;
  }

  public HealthWriter health() {
    return health;
  }

  public FleetIngest ingest() {
    return ingest;
  }

  public ChunkServer chunks() {
    return chunks;
  }

  public OutboxStore outbox() {
    return outbox;
  }

  public AskService ask() {
    return ask;
  }

  public Clock clock() {
    return clock;
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    chunks.close();
    mqtt.close();
    health.close();
  }
}
