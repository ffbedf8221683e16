package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.store.StorePointer;
import io.edgeslm.agent.internal.update.UpdateSettings;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.Json;
import io.edgeslm.testkit.MqttBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent stops while a new model is in its soak period: the engine neither commits nor rolls
 * back on its way out (no model swap during shutdown); the next start rolls the open trial back and
 * journals why, as after a power cut.
 */
class SoakShutdownIT {

  static MqttBroker broker;
  @TempDir Path tmp;

  @BeforeAll
  static void broker() throws Exception {
    broker = MqttBroker.forTests();
  }

  @AfterAll
  static void closeBroker() {
    broker.close();
  }

  @Test
  void stopDuringSoak_leavesTheTrialOpen_andTheNextStartRollsItBack() throws Exception {
    TestBundles bundles = new TestBundles();
    String nodeId = "gw-" + UUID.randomUUID().toString().substring(0, 8);
    Path data = tmp.resolve("node");
    UpdateSettings longSoak =
        UpdateSettings.defaults()
            .withSoak(Duration.ofHours(1), Duration.ofMillis(100))
            .withDiskMargin(0);
    RecordingRuntime runtime = new RecordingRuntime();
    TestNode node = new TestNode(broker.url(), nodeId, data, bundles.trust(), runtime, longSoak);
    try {
      Path staged = node.store.stagingDir("usb-1").resolve("bundle");
      bundles.bundle(staged, TestBundles.Spec.version(5));
      node.engine.installFromDirectory("usb-1", staged);
      await().atMost(Duration.ofSeconds(60)).until(() -> node.store.pointer().trial());
      assertThat(runtime.loads()).hasSize(1);
    } finally {
      node.close();
    }
    // On the way out: one load only (no swap back), the pointer still on trial, nothing journaled
    // as rolled back or activated.
    assertThat(runtime.loads()).hasSize(1);
    assertThat(node.journal.entries())
        .extracting(JournalEntry::event)
        .containsExactly(JournalEvent.VERIFIED);

    StorePointer onDisk =
        Json.mapper().readValue(data.resolve("pointer.json").toFile(), StorePointer.class);
    assertThat(onDisk.trial()).isTrue();
    assertThat(onDisk.trialAssignmentId()).isEqualTo("usb-1");

    // The next start reports the rollback.
    RecordingRuntime again = new RecordingRuntime();
    try (TestNode next =
        new TestNode(broker.url(), nodeId, data, bundles.trust(), again, longSoak)) {
      assertThat(next.journal.entries())
          .extracting(JournalEntry::event)
          .containsExactly(JournalEvent.VERIFIED, JournalEvent.ROLLED_BACK);
      assertThat(next.store.active()).isEmpty();
      assertThat(again.loads()).isEmpty();
    }
  }
}
