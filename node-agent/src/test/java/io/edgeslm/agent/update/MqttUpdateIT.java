package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.update.PahoUpdateLink;
import io.edgeslm.agent.internal.update.UpdateSettings;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdateResult;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.bundles.BundleServer;
import io.edgeslm.testkit.bundles.Faults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bundle over real Mosquitto from the test kit's bundle server, which drops, duplicates, delays
 * and corrupts chunks: the node installs it once, byte for byte. The bundle is padded to {@code
 * -Dedgeslm.updates.bundleMb} MiB (24 in CI; 300 for the full case).
 */
class MqttUpdateIT {

  static final long BUNDLE_MB = Long.getLong("edgeslm.updates.bundleMb", 24);
  static MqttBroker broker;

  @TempDir Path tmp;

  @BeforeAll
  static void broker() throws Exception {
    // A private Mosquitto: a bundle server answers every node's chunk requests on its broker, so
    // on a shared broker another test's server would answer ours with not_found (seen on our
    // shared machine: assignments rejected with not_found while a second run was going on).
    broker = MqttBroker.privateMosquitto();
  }

  @AfterAll
  static void closeBroker() {
    broker.close();
  }

  static UpdateSettings fastSoak() {
    return UpdateSettings.defaults()
        .withSoak(Duration.ofMillis(600), Duration.ofMillis(200))
        .withDiskMargin(0);
  }

  static UpdateResult read(byte[] payload) {
    try {
      return Json.read(payload, UpdateResult.class);
    } catch (InvalidPayloadException e) {
      throw new AssertionError("the node published an unreadable result: " + e.getMessage(), e);
    }
  }

  @Test
  void assignment_overFaultyChunkServer_installsOnceAndByteForByte() throws Exception {
    TestBundles bundles = new TestBundles();
    Path src =
        bundles.bundle(tmp.resolve("src/b1"), TestBundles.Spec.version(5).padding(BUNDLE_MB << 20));
    String nodeId = "gw-" + UUID.randomUUID().toString().substring(0, 8);
    RecordingRuntime runtime = new RecordingRuntime();
    List<UpdateResult> results = new CopyOnWriteArrayList<>();
    try (BundleServer server =
            BundleServer.start(broker.url(), nodeId + "-ctl", Faults.everyKind(0.05, 7));
        TestNode node =
            new TestNode(
                broker.url(), nodeId, tmp.resolve("node"), bundles.trust(), runtime, fastSoak())) {
      PahoUpdateLink watcher = PahoUpdateLink.connect(broker.url(), nodeId + "-watch");
      assertThat(watcher.awaitConnected(10_000)).isTrue();
      watcher.subscribe(node.topics.updateResult(), 1, m -> results.add(read(m.payload())));

      UpdateAssignment a =
          server.offer(
              "as-" + nodeId,
              "bundle-5",
              bundles.ref(src, 5),
              src,
              UpdateAssignment.DEFAULT_CHUNK_BYTES,
              node.topics);
      server.publishAssignment(node.topics, a);

      await()
          .atMost(Duration.ofMinutes(BUNDLE_MB > 100 ? 15 : 4))
          .until(() -> results.stream().anyMatch(r -> r.outcome() == UpdateOutcome.ACTIVATED));
      server.clearAssignment(node.topics);

      // Installed once, and the store holds exactly the signed files.
      assertThat(runtime.loads()).hasSize(1);
      var active = node.store.active().orElseThrow();
      assertThat(active.version()).isEqualTo(5);
      Path dir = node.store.directory(active);
      assertThat(Files.mismatch(dir.resolve("model.gguf"), src.resolve("model.gguf")))
          .isEqualTo(-1);
      assertThat(Files.mismatch(dir.resolve("extra/padding.bin"), src.resolve("extra/padding.bin")))
          .isEqualTo(-1);
      assertThat(runtime.serving()).isEqualTo(dir.resolve("model.gguf"));

      // The faults really happened, and the node got through them.
      assertThat(server.dropped()).isPositive();
      assertThat(server.duplicated()).isPositive();
      assertThat(server.corrupted()).isPositive();
      System.out.printf(
          "MqttUpdateIT: %d MiB bundle, %d chunks sent (%d dropped, %d duplicated, %d corrupted),"
              + " %d requests%n",
          BUNDLE_MB,
          server.chunksSent(),
          server.dropped(),
          server.duplicated(),
          server.corrupted(),
          server.requests());

      // One result per outcome, each step journaled once, in order.
      await().atMost(Duration.ofSeconds(5)).until(() -> results.size() >= 2);
      assertThat(results)
          .extracting(UpdateResult::outcome)
          .containsExactly(UpdateOutcome.VERIFIED, UpdateOutcome.ACTIVATED);
      List<JournalEvent> events = node.journal.entries().stream().map(JournalEntry::event).toList();
      assertThat(events)
          .containsExactly(
              JournalEvent.ASSIGNED,
              JournalEvent.DOWNLOAD_STARTED,
              JournalEvent.DOWNLOADED,
              JournalEvent.VERIFIED,
              JournalEvent.ACTIVATED);
      // Staging is empty after the install.
      assertThat(node.store.stagingIds()).isEmpty();
      watcher.close();
    }
  }
}
