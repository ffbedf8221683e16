package io.edgeslm.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.fleet.internal.app.ControllerSettings;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.rollout.RolloutPlanRequest;
import io.edgeslm.fleet.internal.rollout.RolloutRunner;
import io.edgeslm.fleet.internal.store.NodeFilter;
import io.edgeslm.fleet.internal.store.NodeRow;
import io.edgeslm.fleet.sim.VirtualNode;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.testkit.MqttBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller end to end against a real Mosquitto and a real database, with virtual nodes
 * speaking the real protocol: registry from birth/status/will/health, signed upload, a rollout
 * dispatched over retained assignments, chunks pulled and verified, results, fleet-wide rollback.
 */
abstract class ControllerContract {

  static final ModelRef OLD = ModelRef.of("phi-mini", 1, "sha256:" + "a".repeat(64));

  @TempDir Path tmp;
  MqttBroker broker;
  FleetController controller;
  SigningKey key;
  final List<VirtualNode> nodes = new ArrayList<>();
  final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor();

  abstract DataSource freshDatabase();

  @BeforeEach
  void start() throws Exception {
    broker = MqttBroker.privateMosquitto();
    key = SigningKey.generate(KeyCurve.P256);
    controller = newController("controller-1");
    controller.start();
    assertThat(controller.mqtt().awaitConnected(Duration.ofSeconds(20)))
        .as("controller connects: %s", controller.mqtt().lastError())
        .isTrue();
  }

  FleetController newController(String clientId) throws Exception {
    return newController(clientId, freshDatabase());
  }

  FleetController newController(String clientId, DataSource ds) throws Exception {
    return newController(clientId, ds, Duration.ofSeconds(60));
  }

  FleetController newController(String clientId, DataSource ds, Duration outboxLease)
      throws Exception {
    Path bundles = Files.createDirectories(tmp.resolve("bundles-" + clientId));
    return new FleetController(
        ds,
        new ControllerSettings(
            broker.url(),
            clientId,
            null,
            null,
            "fleet",
            bundles,
            16 * 1024,
            50L << 20,
            TrustStore.pinned(List.of(key.verificationKey())),
            Duration.ofMillis(200),
            Duration.ofDays(7),
            10_000,
            500,
            outboxLease),
        Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    heartbeats.shutdownNow();
    nodes.forEach(VirtualNode::close);
    if (controller != null) {
      controller.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  VirtualNode node(String id, Map<String, String> labels) throws Exception {
    VirtualNode n = new VirtualNode(broker.url(), "plant-1", id, OLD, labels);
    n.connect();
    nodes.add(n);
    return n;
  }

  void beat() {
    heartbeats.scheduleAtFixedRate(
        () -> {
          for (VirtualNode n : List.copyOf(nodes)) {
            try {
              n.publishHealth();
            } catch (Exception e) {
              // a crashed node stops beating
            }
          }
        },
        0,
        300,
        TimeUnit.MILLISECONDS);
  }

  @Test
  void registry_birthStatusWillAndHealth_reflectTheFleet() throws Exception {
    VirtualNode a = node("gw-a", Map.of("line", "1"));
    node("gw-b", Map.of("line", "2"));
    beat();

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<NodeRow> rows = controller.nodes().nodes(NodeFilter.NONE, null, 10).items();
              assertThat(rows).extracting(NodeRow::status).containsExactly("online", "online");
              assertThat(rows).allMatch(r -> r.lastHealthAt() != null);
            });
    NodeRow row = controller.nodes().node("gw-a").orElseThrow();
    assertThat(row.labels()).containsEntry("line", "1");
    assertThat(row.model()).isEqualTo(OLD);
    assertThat(row.arch()).isEqualTo("amd64");

    a.crash();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              NodeRow r = controller.nodes().node("gw-a").orElseThrow();
              assertThat(r.status()).isEqualTo("offline");
              assertThat(r.statusReason()).isEqualTo("connection lost");
            });
    assertThat(controller.health().stored()).isPositive();
    assertThat(controller.ingest().invalidMessages()).isZero();
  }

  @Test
  void rollout_overMqtt_dispatchesPullsChunksCompletesAndRollsBack() throws Exception {
    for (int i = 0; i < 4; i++) {
      node("gw-" + i, Map.of("line", "1"));
    }
    beat();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> controller.nodes().countByStatus().getOrDefault("online", 0L) == 4L);

    Path bundle = TestBundles.signed(tmp, key, "phi-mini", 2, 100_000);
    BundleInfo info = controller.catalog().upload(TestBundles.spool(bundle), "alice");
    assertThat(info.model().version()).isEqualTo(2);
    assertThat(info.files())
        .extracting(f -> f.name())
        .contains("model.gguf", "release.json", "model.sig");

    RolloutState created =
        controller
            .runner()
            .create(
                "r-e2e",
                new RolloutPlanRequest(
                    null,
                    "phi-mini v2",
                    info.bundleId(),
                    new NodeSelector(null, null, null, 0, Map.of("line", "1")),
                    List.of(Wave.count(1), Wave.percent(100)),
                    new Thresholds(100, 0, ErrorAction.PAUSE, Duration.ofMinutes(5)),
                    new HealthGate(
                        Duration.ofSeconds(1),
                        Duration.ofHours(1),
                        0.9,
                        1.5,
                        0.05,
                        0.5,
                        50,
                        Duration.ofSeconds(30)),
                    null),
                "alice");
    assertThat(created.status()).isEqualTo(RolloutStatus.RUNNING);

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(controller.runner().get("r-e2e").status())
                    .isEqualTo(RolloutStatus.COMPLETED));
    assertThat(nodes).allMatch(n -> n.active().equals(info.model()));
    assertThat(controller.chunks().bytesServed()).isEqualTo(4 * info.totalBytes());
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(controller.nodes().countByModel())
                    .containsExactly(Map.entry("phi-mini v2", 4L)));
    RolloutState done = controller.runner().get("r-e2e");
    assertThat(done.waves().get(0).gate().passed()).isTrue();

    controller.runner().command("r-e2e", RolloutRunner.Command.ROLLBACK, "bob", "complaints");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(nodes).allMatch(n -> n.active().equals(OLD)));
    assertThat(controller.runner().audit("r-e2e", 100))
        .extracting(AuditEvent::action)
        .contains("created", "wave-started", "gate-passed", "completed", "rolled-back");
  }

  @Test
  void twoReplicasOnOneDatabase_dispatchEveryNodeExactlyOnce() throws Exception {
    controller.close();
    DataSource shared = freshDatabase();
    controller = newController("controller-1", shared);
    FleetController second = newController("controller-2", shared);
    try {
      controller.start();
      second.start();
      for (int i = 0; i < 6; i++) {
        node("gw-" + i, Map.of());
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> controller.nodes().countByStatus().getOrDefault("online", 0L) == 6L);
      Path bundle = TestBundles.signed(tmp, key, "phi-mini", 3, 20_000);
      BundleInfo info = controller.catalog().upload(TestBundles.spool(bundle), "alice");
      Files.createDirectories(second.catalog().files().root());
      // The second replica's store must hold the files too (a shared volume in production).
      copyTree(
          controller.catalog().files().dir(info.bundleId()),
          second.catalog().files().dir(info.bundleId()));
      controller
          .runner()
          .create(
              "r-two",
              new RolloutPlanRequest(
                  null,
                  "two replicas",
                  info.bundleId(),
                  null,
                  List.of(Wave.count(2), Wave.percent(50), Wave.percent(100)),
                  new Thresholds(100, 0, ErrorAction.PAUSE, Duration.ofMinutes(5)),
                  null,
                  null),
              "alice");
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(controller.runner().get("r-two").status())
                      .isEqualTo(RolloutStatus.COMPLETED));
      assertThat(controller.runner().dispatched() + second.runner().dispatched()).isEqualTo(6);
      assertThat(nodes).allMatch(n -> n.active().equals(info.model()));
    } finally {
      second.close();
    }
  }

  /**
   * A replica stops after storing a wave larger than one drain claim (1,000 rows): the other
   * replica publishes every row of the batch, claim by claim. Deleting a claimed part as if it were
   * the whole batch would lose the batch's other rows (their nodes would never get an assignment
   * while the controller's records say they have one).
   */
  @Test
  void waveLargerThanOneDrainClaim_leftByAStoppedReplica_isPublishedWhole() throws Exception {
    controller.close();
    DataSource shared = freshDatabase();
    controller = newController("controller-1", shared, Duration.ofSeconds(1));
    controller.runner().suspendPublishing(true); // dies right after each commit
    controller.start();
    int n = 1_200;
    java.time.Instant now = java.time.Instant.now();
    List<io.edgeslm.fleet.internal.store.BirthEvent> births = new ArrayList<>();
    List<io.edgeslm.fleet.internal.store.StatusEvent> statuses = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = String.format("gw-%04d", i);
      births.add(
          new io.edgeslm.fleet.internal.store.BirthEvent(
              "plant-1",
              id,
              new io.edgeslm.protocol.NodeBirth(
                  io.edgeslm.protocol.Protocol.SCHEMA_VERSION,
                  "0.1.0",
                  "amd64",
                  "gw-8g",
                  8L << 30,
                  Map.of(),
                  OLD,
                  null,
                  now,
                  now),
              now));
      statuses.add(
          new io.edgeslm.fleet.internal.store.StatusEvent(
              "plant-1", id, io.edgeslm.protocol.NodeStatus.online(now), now));
    }
    controller.nodes().recordBatch(births, statuses, List.of());
    BundleInfo info =
        controller
            .catalog()
            .upload(
                TestBundles.spool(TestBundles.signed(tmp, key, "phi-mini", 5, 20_000)), "alice");
    controller.runner().create("r-big", plan(info, List.of(Wave.percent(100))), "alice");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> controller.runner().get("r-big").targets().size() == n);
    assertThat(controller.outbox().pending()).isEqualTo(n);
    controller.close();

    controller = newController("controller-2", shared, Duration.ofSeconds(1));
    copyTree(
        tmp.resolve("bundles-controller-1").resolve(info.bundleId()),
        controller.catalog().files().dir(info.bundleId()));
    controller.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> controller.outbox().pending() == 0);
    assertThat(controller.runner().republished()).as("rows published by the drain").isEqualTo(n);
  }

  @Test
  void assignmentStoredButNotPublished_isPublishedOnceByAnotherReplica() throws Exception {
    controller.close();
    DataSource shared = freshDatabase();
    // A short lease, so the second replica takes over the first one's unpublished rows quickly.
    controller = newController("controller-1", shared, Duration.ofSeconds(1));
    controller.runner().suspendPublishing(true); // dies right after each commit
    controller.start();
    VirtualNode n = node("gw-0", Map.of());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> controller.nodes().countByStatus().getOrDefault("online", 0L) == 1L);
    BundleInfo info =
        controller
            .catalog()
            .upload(
                TestBundles.spool(TestBundles.signed(tmp, key, "phi-mini", 4, 30_000)), "alice");
    controller.runner().create("r-outbox", plan(info, List.of(Wave.percent(100))), "alice");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> controller.runner().get("r-outbox").targets().containsKey("gw-0"));
    assertThat(controller.outbox().pending()).isEqualTo(1);
    assertThat(controller.outbox().retainedAssignment("gw-0")).isEqualTo("r-outbox.gw-0");
    controller.close();
    assertThat(n.assignmentsReceived()).as("nothing was published before the crash").isZero();

    controller = newController("controller-2", shared, Duration.ofSeconds(1));
    copyTree(
        tmp.resolve("bundles-controller-1").resolve(info.bundleId()),
        controller.catalog().files().dir(info.bundleId()));
    controller.start();
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(n.active()).isEqualTo(info.model()));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(controller.runner().get("r-outbox").status())
                    .isEqualTo(RolloutStatus.COMPLETED));
    assertThat(controller.runner().republished()).isEqualTo(1);
    assertThat(n.assignmentsReceived()).as("the assignment arrived once").isEqualTo(1);
    // After the node's result the retained assignment, still ours, is cleared.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(controller.outbox().retainedAssignment("gw-0")).isNull();
              assertThat(controller.outbox().pending()).isZero();
            });
  }

  @Test
  void chunkSize_staysBelowEachNodesMaximumPacketSize() throws Exception {
    // The controller's chunk size is 16 KiB; gw-small accepts packets of at most 12 KiB, and the
    // broker drops anything larger for it (MQTT 5 Maximum Packet Size).
    VirtualNode small = new VirtualNode(broker.url(), "plant-1", "gw-small", OLD, Map.of());
    small.maxPacketBytes(12 * 1024).connect();
    nodes.add(small);
    VirtualNode big = node("gw-big", Map.of());
    beat();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                controller.nodes().countByStatus().getOrDefault("online", 0L) == 2L
                    && controller.nodes().maxPacketBytes().containsKey("gw-small"));
    BundleInfo info =
        controller
            .catalog()
            .upload(
                TestBundles.spool(TestBundles.signed(tmp, key, "phi-mini", 5, 70_000)), "alice");
    assertThat(info.chunkBytes()).isEqualTo(16 * 1024);
    controller.runner().create("r-chunks", plan(info, List.of(Wave.percent(100))), "alice");
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(nodes).allMatch(x -> info.model().equals(x.active())));
    assertThat(small.lastAssignment().chunkBytes()).isEqualTo(8 * 1024);
    assertThat(big.lastAssignment().chunkBytes()).isEqualTo(16 * 1024);
    assertThat(small.bytesReceived()).isEqualTo(info.totalBytes());
    assertThat(big.bytesReceived()).isEqualTo(info.totalBytes());
  }

  static RolloutPlanRequest plan(BundleInfo info, List<Wave> waves) {
    return new RolloutPlanRequest(
        null,
        "plan of " + info.bundleId(),
        info.bundleId(),
        null,
        waves,
        new Thresholds(100, 0, ErrorAction.PAUSE, Duration.ofMinutes(5)),
        null,
        null);
  }

  static void copyTree(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName().toString()));
      }
    }
  }
}
