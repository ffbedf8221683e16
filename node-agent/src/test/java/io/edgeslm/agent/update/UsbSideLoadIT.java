package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.agent.internal.update.UpdateSettings;
import io.edgeslm.agent.internal.update.UsbSideLoader;
import io.edgeslm.protocol.Json;
import io.edgeslm.testkit.MqttBrokerExtension;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** USB side-loading from a directory standing in for the stick's mount point, real files. */
class UsbSideLoadIT {

  @RegisterExtension static final MqttBrokerExtension BROKER = MqttBrokerExtension.forTests();

  @TempDir Path tmp;

  @Test
  void stickWithGoodBadAndGarbageBundles_getsOneResultPerBundle_andOnlyTheGoodOneRuns()
      throws Exception {
    TestBundles b = new TestBundles();
    Path stick = Files.createDirectories(tmp.resolve("stick"));
    b.bundle(stick.resolve("1-good-v5"), TestBundles.Spec.version(5));
    Path tampered = b.bundle(stick.resolve("2-tampered-v6"), TestBundles.Spec.version(6));
    try (RandomAccessFile f = new RandomAccessFile(tampered.resolve("model.gguf").toFile(), "rw")) {
      f.seek(f.length() / 2);
      int v = f.read();
      f.seek(f.length() / 2);
      f.write(v ^ 0x01);
    }
    b.bundle(
        stick.resolve("3-expired-v7"),
        TestBundles.Spec.version(7).expires(Instant.parse("2020-01-01T00:00:00Z")));
    b.bundle(stick.resolve("4-lower-v3"), TestBundles.Spec.version(3));
    b.bundle(
        stick.resolve("5-other-class-v8"), TestBundles.Spec.version(8).deviceClass("camera-s"));
    Path withLink = b.bundle(stick.resolve("6-with-link-v9"), TestBundles.Spec.version(9));
    Files.createSymbolicLink(withLink.resolve("notes.txt"), Path.of("/etc/hostname"));
    Files.createSymbolicLink(stick.resolve("7-linked-dir"), stick.resolve("1-good-v5"));
    Path unsigned = b.bundle(stick.resolve("8-unsigned-v10"), TestBundles.Spec.version(10));
    Files.delete(unsigned.resolve(UsbSideLoader.SIGNATURE));
    // A file the signature does not cover: the verifier's reason names the directory it checked.
    Path extra = b.bundle(stick.resolve("9-extra-file-v11"), TestBundles.Spec.version(11));
    Files.writeString(extra.resolve("notes.txt"), "not signed");
    // Garbage a technician may leave on a stick: ignored, no result.
    Files.writeString(stick.resolve("README.txt"), "hello");
    Files.createDirectories(stick.resolve("photos"));
    Files.write(stick.resolve("photos/img.jpg"), new byte[1000]);

    String nodeId = newNodeId();
    RecordingRuntime runtime = new RecordingRuntime();
    try (TestNode node = node(nodeId, b, runtime, MqttUpdateIT.fastSoak())) {
      UsbSideLoader usb = sideLoader(stick, node, nodeId);

      var outcomes = usb.scan();

      assertThat(outcomes).hasSize(9);
      Map<String, String> byBundle = resultFile(stick, nodeId);
      assertThat(byBundle)
          .containsExactly(
              Map.entry("1-good-v5", "activated/-"),
              Map.entry("2-tampered-v6", "rejected/tampered"),
              Map.entry("3-expired-v7", "rejected/expired"),
              Map.entry("4-lower-v3", "rejected/rollback"),
              Map.entry("5-other-class-v8", "rejected/wrong_device_class"),
              Map.entry("6-with-link-v9", "rejected/link_refused"),
              Map.entry("7-linked-dir", "rejected/link_refused"),
              Map.entry("8-unsigned-v10", "rejected/unsigned_bundle"),
              Map.entry("9-extra-file-v11", "rejected/tampered"));
      assertThat(outcomes.getLast().reason())
          .as("the stick's own name for the bundle, not the node's staging directory")
          .startsWith("File(s) in '9-extra-file-v11' not covered by the signature: notes.txt");
      assertThat(node.store.active().orElseThrow().version()).isEqualTo(5);
      // Done: the in-progress marker is gone once the results are on the stick.
      assertThat(stick.resolve(UsbSideLoader.MARKER_FILE)).doesNotExist();
      assertThat(runtime.loads()).hasSize(1);
      assertThat(node.store.stagingIds()).isEmpty();

      // A second scan of the same stick does nothing new.
      assertThat(usb.scan()).isEmpty();
    }
  }

  @Test
  void stickRemovedMidCopy_reportsInterruptedCopy_andTheOldModelKeepsServing() throws Exception {
    TestBundles b = new TestBundles();
    Path stick = Files.createDirectories(tmp.resolve("stick"));
    b.bundle(stick.resolve("a-v5"), TestBundles.Spec.version(5));
    Path big = b.bundle(stick.resolve("b-v6"), TestBundles.Spec.version(6));
    // Several large files, so the copy is still running when the bundle disappears.
    for (int i = 0; i < 6; i++) {
      TestBundles.writeRandom(big.resolve("parts/part-" + i + ".bin"), 48L << 20, i);
    }
    String nodeId = newNodeId();
    RecordingRuntime runtime = new RecordingRuntime();
    try (TestNode node = node(nodeId, b, runtime, MqttUpdateIT.fastSoak())) {
      UsbSideLoader usb = sideLoader(stick, node, nodeId);
      Path staging = node.store.root().resolve("staging");
      Thread remover =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      while (!copyStarted(staging)) {
                        Thread.sleep(2);
                      }
                      try (Stream<Path> s = Files.walk(big)) {
                        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                          Files.deleteIfExists(p);
                        }
                      }
                    } catch (Exception e) {
                      throw new RuntimeException(e);
                    }
                  });

      usb.scan();
      remover.join(60_000);

      Map<String, String> byBundle = resultFile(stick, nodeId);
      assertThat(byBundle)
          .containsExactly(
              Map.entry("a-v5", "activated/-"), Map.entry("b-v6", "failed/copy_interrupted"));
      assertThat(node.store.active().orElseThrow().version()).isEqualTo(5);
      assertThat(node.store.stagingIds()).isEmpty();
    }
  }

  @Test
  void stickStillInAfterARestart_bundleAlreadyServing_keepsItsResult_andIsNotJournaledAgain()
      throws Exception {
    TestBundles b = new TestBundles();
    Path stick = Files.createDirectories(tmp.resolve("stick"));
    b.bundle(stick.resolve("v4"), TestBundles.Spec.version(4));
    String nodeId = newNodeId();
    int journaled;
    try (TestNode node = node(nodeId, b, new RecordingRuntime(), MqttUpdateIT.fastSoak())) {
      sideLoader(stick, node, nodeId).scan();
      assertThat(resultFile(stick, nodeId)).containsExactly(Map.entry("v4", "activated/-"));
      journaled = node.journal.entries().size();
    }

    // The agent restarts with the stick still in: a new watcher sees the bundle again.
    try (TestNode node = node(nodeId, b, new RecordingRuntime(), MqttUpdateIT.fastSoak())) {
      sideLoader(stick, node, nodeId).scan();

      assertThat(resultFile(stick, nodeId)).containsExactly(Map.entry("v4", "activated/-"));
      assertThat(node.journal.entries()).hasSize(journaled);
      assertThat(node.store.active().orElseThrow().version()).isEqualTo(4);
      assertThat(node.store.stagingIds()).isEmpty();
    }
  }

  @Test
  void markerSaysSoakingWhileTheModelSoaks_thenTheFailedSoaksRollbackIsInTheResultFile()
      throws Exception {
    TestBundles b = new TestBundles();
    Path stick = Files.createDirectories(tmp.resolve("stick"));
    b.bundle(stick.resolve("v5"), TestBundles.Spec.version(5));
    String nodeId = newNodeId();
    RecordingRuntime runtime = new RecordingRuntime();
    // A soak far longer than the test: it ends only through the worker crash below.
    UpdateSettings longSoak =
        UpdateSettings.defaults()
            .withSoak(Duration.ofMinutes(10), Duration.ofMillis(100))
            .withDiskMargin(0);
    try (TestNode node = node(nodeId, b, runtime, longSoak)) {
      UsbSideLoader usb = sideLoader(stick, node, nodeId);
      Path marker = stick.resolve(UsbSideLoader.MARKER_FILE);
      CompletableFuture<List<UsbSideLoader.BundleOutcome>> scan =
          CompletableFuture.supplyAsync(usb::scan);

      await()
          .atMost(Duration.ofSeconds(60))
          .alias("the marker says soaking")
          .until(() -> "soaking".equals(markerState(marker)));
      JsonNode m = Json.mapper().readTree(marker.toFile());
      assertThat(m.get("nodeId").asText()).isEqualTo(nodeId);
      assertThat(m.get("bundle").asText()).isEqualTo("v5");
      assertThat(Instant.parse(m.get("soakEndsAt").asText()))
          .isAfter(Instant.parse(m.get("at").asText()));
      assertThat(stick.resolve(UsbSideLoader.RESULT_FILE)).doesNotExist();
      assertThat(scan).isNotDone();

      runtime.crashWorker();
      assertThat(scan.get(60, TimeUnit.SECONDS)).hasSize(1);

      assertThat(resultFile(stick, nodeId))
          .containsExactly(Map.entry("v5", "rolled_back/soak_failed"));
      assertThat(marker).as("done: the marker is gone, the result is there").doesNotExist();
      assertThat(node.store.active()).as("no verified model before it: none serves").isEmpty();
      assertThat(runtime.serving()).isNull();
    }
  }

  private static String newNodeId() {
    return "gw-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** A node on the test broker, its store in {@code tmp/node}, trusting {@code b}'s key. */
  private TestNode node(
      String nodeId, TestBundles b, RecordingRuntime runtime, UpdateSettings settings)
      throws Exception {
    return new TestNode(
        BROKER.broker().url(), nodeId, tmp.resolve("node"), b.trust(), runtime, settings);
  }

  /** The node's USB side-loader for {@code stick}: real clock, 120 s per bundle. */
  private static UsbSideLoader sideLoader(Path stick, TestNode node, String nodeId) {
    return new UsbSideLoader(stick, node.engine, node.store, nodeId, Clock.systemUTC(), 120_000);
  }

  /** The marker's {@code state}, or null while there is none. */
  static String markerState(Path marker) {
    try {
      return Json.mapper().readTree(marker.toFile()).get("state").asText();
    } catch (Exception e) {
      return null;
    }
  }

  /** Whether a part file of the second bundle has appeared in staging. */
  static boolean copyStarted(Path staging) {
    try (Stream<Path> s = Files.walk(staging)) {
      return s.anyMatch(p -> p.getFileName().toString().startsWith("part-"));
    } catch (Exception e) {
      return false;
    }
  }

  static Map<String, String> resultFile(Path stick, String nodeId) throws Exception {
    JsonNode root = Json.mapper().readTree(stick.resolve(UsbSideLoader.RESULT_FILE).toFile());
    assertThat(root.get("nodeId").asText()).isEqualTo(nodeId);
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode r : root.get("results")) {
      assertThat(r.hasNonNull("at")).isTrue();
      String code = r.hasNonNull("reasonCode") ? r.get("reasonCode").asText() : "-";
      if (!code.equals("-")) {
        assertThat(r.get("reason").asText()).isNotBlank();
        // The node's own paths mean nothing to a technician holding the stick.
        assertThat(r.get("reason").asText()).doesNotContain("staging");
      }
      out.put(r.get("bundle").asText(), r.get("outcome").asText() + "/" + code);
    }
    return out;
  }
}
