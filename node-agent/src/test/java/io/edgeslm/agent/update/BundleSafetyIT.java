package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.agent.internal.update.PahoUpdateLink;
import io.edgeslm.agent.internal.update.UpdateException;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdateResult;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.bundles.BundleServer;
import io.edgeslm.testkit.bundles.Faults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bundle names and links at the engine itself, below the USB copier's own refusals: an assignment
 * naming a file {@code ../…} is refused with a result (not silently dropped) and nothing is
 * written; a staged bundle holding a symbolic link (as if it reached staging by another way) fails
 * verification and nothing is installed or loaded; a rollback ordered on a node without a model is
 * answered with a result that names no model.
 */
class BundleSafetyIT {

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
  void assignmentNamingDotDot_isRefusedWithAResult_andNothingIsWritten() throws Exception {
    TestBundles bundles = new TestBundles();
    Path src = bundles.bundle(tmp.resolve("src/b5"), TestBundles.Spec.version(5));
    String nodeId = "gw-" + UUID.randomUUID().toString().substring(0, 8);
    RecordingRuntime runtime = new RecordingRuntime();
    List<UpdateResult> results = new CopyOnWriteArrayList<>();
    Path data = tmp.resolve("node/data");
    try (BundleServer server = BundleServer.start(broker.url(), nodeId + "-ctl", Faults.NONE);
        TestNode node =
            new TestNode(
                broker.url(), nodeId, data, bundles.trust(), runtime, MqttUpdateIT.fastSoak());
        PahoUpdateLink watcher = PahoUpdateLink.connect(broker.url(), nodeId + "-watch")) {
      assertThat(watcher.awaitConnected(10_000)).isTrue();
      watcher.subscribe(
          node.topics.updateResult(), 1, m -> results.add(MqttUpdateIT.read(m.payload())));
      UpdateAssignment good =
          server.offer(
              "as-dotdot",
              "bundle-5",
              bundles.ref(src, 5),
              src,
              UpdateAssignment.DEFAULT_CHUNK_BYTES,
              node.topics);
      // The controller (or an attacker on its topic) names a file outside the bundle.
      ObjectNode tree = (ObjectNode) Json.mapper().valueToTree(good);
      ((ObjectNode) tree.withArray("files").get(0)).put("name", "../../escape.gguf");
      server.publish(node.topics.updateAssignment(), Json.mapper().writeValueAsBytes(tree), true);

      await().atMost(Duration.ofSeconds(60)).until(() -> !results.isEmpty());
      server.clearAssignment(node.topics);
      UpdateResult r = results.getFirst();
      assertThat(r.assignmentId()).isEqualTo("as-dotdot");
      assertThat(r.outcome()).isEqualTo(UpdateOutcome.REJECTED);
      assertThat(r.reasonCode()).isEqualTo(ReasonCode.MALFORMED_ASSIGNMENT.code());
      assertThat(r.model()).isNull();
      assertThat(r.reason())
          .startsWith("The assignment cannot be read: ")
          .contains("../../escape.gguf")
          .endsWith(
              "Nothing was downloaded; fix the assignment and publish it again under a new id.");

      assertThat(server.requests()).isZero();
      assertThat(runtime.loads()).isEmpty();
      assertThat(node.store.stagingIds()).isEmpty();
      try (Stream<Path> s = Files.walk(tmp)) {
        assertThat(s.filter(p -> p.getFileName().toString().equals("escape.gguf"))).isEmpty();
      }
      assertThat(node.journal.entries())
          .singleElement()
          .satisfies(
              e -> {
                assertThat(e.event()).isEqualTo(JournalEvent.REJECTED);
                assertThat(e.assignmentId()).isEqualTo("as-dotdot");
                assertThat(e.detail()).startsWith("malformed_assignment: ");
              });

      // A rollback ordered on this node (no model at all) gets a result naming no model.
      UpdateCommand rollback =
          new UpdateCommand(
              Protocol.SCHEMA_VERSION,
              "cmd-none",
              CommandAction.ROLLBACK,
              null,
              null,
              Instant.now(),
              null);
      server.publish(node.topics.updateCommand(), Json.write(rollback), false);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> results.stream().anyMatch(x -> "cmd-none".equals(x.commandId())));
      UpdateResult none =
          results.stream().filter(x -> "cmd-none".equals(x.commandId())).findFirst().orElseThrow();
      assertThat(none.outcome()).isEqualTo(UpdateOutcome.REJECTED);
      assertThat(none.reasonCode()).isEqualTo(ReasonCode.NO_PREVIOUS_MODEL.code());
      assertThat(none.reason()).isEqualTo("There is no previous model to roll back to.");
      assertThat(none.model()).isNull();
      assertThat(none.activeModel()).isNull();
    }
  }

  @Test
  void stagedBundleWithASymbolicLink_failsVerification_andNothingIsInstalledOrLoaded()
      throws Exception {
    TestBundles bundles = new TestBundles();
    String nodeId = "gw-" + UUID.randomUUID().toString().substring(0, 8);
    RecordingRuntime runtime = new RecordingRuntime();
    try (TestNode node =
        new TestNode(
            broker.url(),
            nodeId,
            tmp.resolve("node"),
            bundles.trust(),
            runtime,
            MqttUpdateIT.fastSoak())) {
      // Signed, then a link added beside the signed files, straight into staging.
      Path staged = node.store.stagingDir("linked").resolve("bundle");
      bundles.bundle(staged, TestBundles.Spec.version(5));
      Files.createSymbolicLink(staged.resolve("notes.txt"), Path.of("/etc/hostname"));

      ExecutionException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              ExecutionException.class,
              () -> node.engine.installFromDirectory("linked", staged).get(60, TimeUnit.SECONDS));
      assertThat(e.getCause()).isInstanceOf(UpdateException.class);
      UpdateException u = (UpdateException) e.getCause();
      assertThat(u.fault()).isEqualTo(UpdateException.Fault.ARTIFACT);
      assertThat(u.reasonCode()).isEqualTo(ReasonCode.TAMPERED);
      assertThat(u.getMessage()).contains("'notes.txt'").contains("is a symbolic link");

      assertThat(runtime.loads()).isEmpty();
      assertThat(node.store.active()).isEmpty();
      try (Stream<Path> s = Files.list(node.store.root().resolve("models"))) {
        assertThat(s).isEmpty();
      }
      assertThat(node.journal.entries())
          .extracting(JournalEntry::event)
          .containsExactly(JournalEvent.REJECTED);
    }
  }
}
