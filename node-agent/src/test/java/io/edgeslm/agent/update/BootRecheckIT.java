package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.config.UpdateConfig;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.agent.internal.update.PahoUpdateLink;
import io.edgeslm.agent.internal.update.UpdateService;
import io.edgeslm.agent.internal.update.UpdateSettings;
import io.edgeslm.inference.SwapMode;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.Topics;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.signing.TrustRoot;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.testkit.MqttBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the store serves after a restart, with the real engine, store and gate on real files (the
 * runtime only records what it is asked to load): a model file corrupted on disk and a model whose
 * signing key was revoked while the node was off are never loaded, the previous verified model
 * serves and the journal and the engine say why; the activation score survives the restart.
 */
class BootRecheckIT {

  static MqttBroker broker;
  static final UpdateSettings SHORT_SOAK =
      UpdateSettings.defaults()
          .withSoak(Duration.ofMillis(300), Duration.ofMillis(100))
          .withDiskMargin(0);

  @TempDir Path tmp;

  @BeforeAll
  static void broker() throws Exception {
    broker = MqttBroker.forTests();
  }

  @AfterAll
  static void closeBroker() {
    broker.close();
  }

  static String nodeId() {
    return "gw-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Side-loads {@code bundle} as a USB copy and waits until it is committed. */
  static StoredModel install(TestNode node, String id, TestBundles b, TestBundles.Spec spec)
      throws Exception {
    Path staged = node.store.stagingDir(id).resolve("bundle");
    b.bundle(staged, spec);
    return node.engine.installFromDirectory(id, staged).get(60, TimeUnit.SECONDS);
  }

  @Test
  void corruptedModelFile_atBoot_isNeverLoaded_thePreviousServes_andItIsReported()
      throws Exception {
    TestBundles bundles = new TestBundles();
    String id = nodeId();
    Path data = tmp.resolve("node");
    StoredModel v1;
    StoredModel v2;
    try (TestNode node =
        new TestNode(broker.url(), id, data, bundles.trust(), new RecordingRuntime(), SHORT_SOAK)) {
      v1 = install(node, "usb-1", bundles, TestBundles.Spec.version(1));
      v2 = install(node, "usb-2", bundles, TestBundles.Spec.version(2));
    }
    Path gguf = data.resolve("models").resolve(v2.digest()).resolve(v2.modelFile());
    byte[] bytes = Files.readAllBytes(gguf);
    bytes[bytes.length / 2] ^= 0x01; // one flipped bit, past the GGUF magic
    Files.write(gguf, bytes);

    RecordingRuntime runtime = new RecordingRuntime();
    try (TestNode next =
        new TestNode(broker.url(), id, data, bundles.trust(), runtime, SHORT_SOAK)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> !runtime.loads().isEmpty());
      next.engine.awaitIdle(10_000);

      assertThat(runtime.loads())
          .containsExactly(data.resolve("models").resolve(v1.digest()).resolve(v1.modelFile()));
      assertThat(next.store.active().orElseThrow().version()).isEqualTo(1);
      assertThat(Files.exists(data.resolve("models").resolve(v2.digest()))).isFalse();
      JournalEntry last = next.journal.entries().getLast();
      assertThat(last.event()).isEqualTo(JournalEvent.ROLLED_BACK);
      assertThat(last.detail()).startsWith("tampered: the stored model plant-assistant v2");
      assertThat(next.engine.servingProblem()).get().asString().startsWith("tampered: ");
    }
  }

  @Test
  void revokedSigningKey_trustStoreRotatedWhileTheNodeWasOff_thePreviousModelServes()
      throws Exception {
    SigningKey rootKey = SigningKey.generate(KeyCurve.P256);
    SigningKey revoked = SigningKey.generate(KeyCurve.P256);
    SigningKey kept = SigningKey.generate(KeyCurve.P256);
    TrustStore before =
        TrustStore.fromSignedRoot(
            TrustStore.signRoot(
                TrustRoot.of(
                    1,
                    List.of(rootKey.verificationKey()),
                    1,
                    List.of(revoked.verificationKey(), kept.verificationKey()),
                    1),
                List.of(rootKey)),
            "root.1.json");
    TrustStore rotated =
        before.rotate(
            TrustStore.signRoot(
                TrustRoot.of(
                    2, List.of(rootKey.verificationKey()), 1, List.of(kept.verificationKey()), 1),
                List.of(rootKey)),
            "root.2.json");
    String id = nodeId();
    Path data = tmp.resolve("node");
    StoredModel v1;
    try (TestNode node =
        new TestNode(broker.url(), id, data, before, new RecordingRuntime(), SHORT_SOAK)) {
      v1 = install(node, "usb-1", new TestBundles(kept), TestBundles.Spec.version(1));
      install(node, "usb-2", new TestBundles(revoked), TestBundles.Spec.version(2));
    }

    RecordingRuntime runtime = new RecordingRuntime();
    try (TestNode next = new TestNode(broker.url(), id, data, rotated, runtime, SHORT_SOAK)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> !runtime.loads().isEmpty());
      next.engine.awaitIdle(10_000);

      assertThat(runtime.loads())
          .containsExactly(data.resolve("models").resolve(v1.digest()).resolve(v1.modelFile()));
      assertThat(next.store.active().orElseThrow().digest()).isEqualTo(v1.digest());
      assertThat(next.journal.entries().getLast().detail())
          .startsWith("untrusted_key: the stored model plant-assistant v2");
    }
  }

  @Test
  void activationScore_keptAcrossARestart() throws Exception {
    TestBundles bundles = new TestBundles();
    String id = nodeId();
    Path data = tmp.resolve("node");
    try (TestNode node =
        new TestNode(
            broker.url(), id, data, bundles.trust(), RecordingRuntime.scoring(0.75), SHORT_SOAK)) {
      install(
          node,
          "usb-1",
          bundles,
          TestBundles.Spec.version(1).evaluation("{\"minScore\": 0.5, \"cases\": []}"));
    }

    RecordingRuntime runtime = new RecordingRuntime();
    try (TestNode next =
        new TestNode(broker.url(), id, data, bundles.trust(), runtime, SHORT_SOAK)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> !runtime.loads().isEmpty());

      assertThat(runtime.recordedScores()).containsExactly(OptionalDouble.of(0.75));
      assertThat(runtime.reportedScore()).isEqualTo(OptionalDouble.of(0.75));
      assertThat(next.store.active().orElseThrow().activationScore()).isEqualTo(0.75);
    }
  }

  /** The agent's update side as the agent opens it, with {@code seed} as the configured model. */
  static UpdateService startService(
      Path data, Path key, String nodeId, RecordingRuntime runtime, Path seed) throws Exception {
    UpdateConfig config =
        new UpdateConfig(
            data,
            Optional.empty(),
            List.of(key),
            TestBundles.MODEL,
            TestBundles.CHANNEL,
            Optional.empty(),
            Duration.ofSeconds(5),
            Duration.ofMinutes(2),
            Duration.ofMillis(300),
            Duration.ofMillis(100),
            3,
            0.2,
            5,
            0.5,
            0,
            SwapMode.AUTO);
    UpdateService s =
        UpdateService.open(
            config, TestNode.profile(nodeId), Topics.node("plant-7", nodeId), Clock.systemUTC());
    s.start(runtime, PahoUpdateLink.connect(broker.url(), nodeId + "-update"), Optional.of(seed));
    return s;
  }

  @Test
  void seedBundleConfigured_theOnlyStoredModelCorruptedOnDisk_atBoot_theSeedIsImportedAgain()
      throws Exception {
    TestBundles bundles = new TestBundles();
    Path key = tmp.resolve("release.pub");
    bundles.writePublicKey(key);
    // Padded so that the boot re-check is still hashing when the service looks at the store.
    Path seed = bundles.bundle(tmp.resolve("seed"), TestBundles.Spec.version(1).padding(96L << 20));
    String id = nodeId();
    Path data = tmp.resolve("node");
    StoredModel v1;
    UpdateService first = startService(data, key, id, new RecordingRuntime(), seed);
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> first.seedOutcome().isPresent());
      assertThat(first.seedOutcome()).get().asString().startsWith("activated");
      v1 = first.active().orElseThrow();
    } finally {
      first.close();
    }
    Path gguf = data.resolve("models").resolve(v1.digest()).resolve(v1.modelFile());
    byte[] bytes = Files.readAllBytes(gguf);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(gguf, bytes);

    RecordingRuntime runtime = new RecordingRuntime();
    UpdateService next = startService(data, key, id, runtime, seed);
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .alias("the seed bundle imported after the stored model failed its re-check")
          .until(() -> next.seedOutcome().isPresent());
      assertThat(next.seedOutcome()).get().asString().startsWith("activated");
      assertThat(next.active().orElseThrow().digest()).isEqualTo(v1.digest());
      // The corrupted copy was never loaded; the fresh import from the operator's bundle was.
      assertThat(runtime.loads()).containsExactly(gguf);
      assertThat(Files.readAllBytes(gguf)).isNotEqualTo(bytes);
      assertThat(next.servingProblem()).get().asString().startsWith("tampered: ");
    } finally {
      next.close();
    }
  }
}
