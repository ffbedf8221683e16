package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.update.PahoUpdateLink;
import io.edgeslm.agent.internal.update.UsbSideLoader;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdateResult;
import io.edgeslm.signing.HighWaterMark;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.ReleaseMetadata;
import io.edgeslm.signing.ReleaseTrack;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.signing.TrustRoot;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.bundles.BundleServer;
import io.edgeslm.testkit.bundles.Faults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast-forward attack (TUF A4, Uptane "rollback" after a key compromise): a compromised release key
 * pushes version 2^53−1, the node installs it, and the trust root is rotated to a replacement key.
 * The release policy stops counting a mark whose signers were revoked; the node must follow that
 * rule before the download (MQTT) and when it persists the next mark (MQTT and USB), or it refuses
 * every legitimate update, or keeps a mark that protects nothing.
 */
class KeyCompromiseIT {

  static MqttBroker broker;
  static final ReleaseTrack TRACK = new ReleaseTrack(TestBundles.MODEL, TestBundles.CHANNEL);

  @TempDir Path tmp;
  SigningKey replacement;
  TrustStore rotated;
  TestBundles legit;
  String nodeId;
  Path data;

  @BeforeAll
  static void broker() throws Exception {
    broker = MqttBroker.privateMosquitto();
  }

  @AfterAll
  static void closeBroker() {
    broker.close();
  }

  /** Installs the compromised key's absurd version, then rotates the node's trust root. */
  @BeforeEach
  void compromiseThenRotate() throws Exception {
    SigningKey rootKey = SigningKey.generate(KeyCurve.P256);
    SigningKey compromised = SigningKey.generate(KeyCurve.P256);
    replacement = SigningKey.generate(KeyCurve.P256);
    TrustStore before =
        TrustStore.fromSignedRoot(
            TrustStore.signRoot(
                TrustRoot.of(
                    1,
                    List.of(rootKey.verificationKey()),
                    1,
                    List.of(compromised.verificationKey()),
                    1),
                List.of(rootKey)),
            "root.1.json");
    rotated =
        before.rotate(
            TrustStore.signRoot(
                TrustRoot.of(
                    2,
                    List.of(rootKey.verificationKey()),
                    1,
                    List.of(replacement.verificationKey()),
                    1),
                List.of(rootKey)),
            "root.2.json");
    legit = new TestBundles(replacement);
    nodeId = "gw-" + UUID.randomUUID().toString().substring(0, 8);
    data = tmp.resolve("node");

    Path stick = Files.createDirectories(tmp.resolve("evil-stick"));
    new TestBundles(compromised)
        .bundle(stick.resolve("absurd"), TestBundles.Spec.version(ReleaseMetadata.MAX_VERSION));
    try (TestNode node =
        new TestNode(
            broker.url(), nodeId, data, before, new RecordingRuntime(), MqttUpdateIT.fastSoak())) {
      var outcomes =
          new UsbSideLoader(stick, node.engine, node.store, nodeId, Clock.systemUTC(), 60_000)
              .scan();
      assertThat(outcomes).extracting(UsbSideLoader.BundleOutcome::outcome).contains("activated");
      assertThat(node.store.marks().get(TRACK).version()).isEqualTo(ReleaseMetadata.MAX_VERSION);
    }
  }

  @Test
  void compromisedKeyThenRotation_mqttUpdateFromTheNewKey_installsAndItsMarkBindsAgain()
      throws Exception {
    Path v2 = legit.bundle(tmp.resolve("src/v2"), TestBundles.Spec.version(2));
    Path v1 = legit.bundle(tmp.resolve("src/v1"), TestBundles.Spec.version(1));
    List<UpdateResult> results = new CopyOnWriteArrayList<>();
    try (BundleServer server = BundleServer.start(broker.url(), nodeId + "-ctl", Faults.NONE);
        TestNode node =
            new TestNode(
                broker.url(),
                nodeId,
                data,
                rotated,
                new RecordingRuntime(),
                MqttUpdateIT.fastSoak());
        PahoUpdateLink watcher = PahoUpdateLink.connect(broker.url(), nodeId + "-watch")) {
      assertThat(watcher.awaitConnected(10_000)).isTrue();
      watcher.subscribe(
          node.topics.updateResult(), 1, m -> results.add(MqttUpdateIT.read(m.payload())));

      server.publishAssignment(node.topics, offer(server, node, "as-v2", v2, 2));
      await().atMost(Duration.ofSeconds(60)).until(() -> finalResult(results, "as-v2") != null);

      assertThat(finalResult(results, "as-v2").outcome()).isEqualTo(UpdateOutcome.ACTIVATED);
      assertThat(node.store.active().orElseThrow().version()).isEqualTo(2);
      HighWaterMark expected = new HighWaterMark(2, Set.of(replacement.verificationKey().keyId()));
      assertThat(ModelStore.open(tmp.resolve("node")).marks()).isEqualTo(Map.of(TRACK, expected));

      // The replacement key's own older release is a rollback now, refused before any chunk.
      long requestsBefore = server.requests();
      server.publishAssignment(node.topics, offer(server, node, "as-v1", v1, 1));
      await().atMost(Duration.ofSeconds(30)).until(() -> finalResult(results, "as-v1") != null);

      UpdateResult refused = finalResult(results, "as-v1");
      assertThat(refused.outcome()).isEqualTo(UpdateOutcome.REJECTED);
      assertThat(refused.reasonCode()).isEqualTo(ReasonCode.ROLLBACK.code());
      assertThat(server.requests()).isEqualTo(requestsBefore);
      assertThat(node.store.active().orElseThrow().version()).isEqualTo(2);
    }
  }

  @Test
  void compromisedKeyThenRotation_usbUpdateFromTheNewKey_replacesTheMark_soAnOldStickIsRefused()
      throws Exception {
    Path stick = Files.createDirectories(tmp.resolve("stick"));
    legit.bundle(stick.resolve("v2"), TestBundles.Spec.version(2));
    Path oldStick = Files.createDirectories(tmp.resolve("old-stick"));
    legit.bundle(oldStick.resolve("v1"), TestBundles.Spec.version(1));
    try (TestNode node =
        new TestNode(
            broker.url(), nodeId, data, rotated, new RecordingRuntime(), MqttUpdateIT.fastSoak())) {
      new UsbSideLoader(stick, node.engine, node.store, nodeId, Clock.systemUTC(), 60_000).scan();
      assertThat(UsbSideLoadIT.resultFile(stick, nodeId))
          .containsExactly(Map.entry("v2", "activated/-"));
      HighWaterMark expected = new HighWaterMark(2, Set.of(replacement.verificationKey().keyId()));
      assertThat(ModelStore.open(data).marks()).isEqualTo(Map.of(TRACK, expected));

      new UsbSideLoader(oldStick, node.engine, node.store, nodeId, Clock.systemUTC(), 60_000)
          .scan();

      assertThat(UsbSideLoadIT.resultFile(oldStick, nodeId))
          .containsExactly(Map.entry("v1", "rejected/rollback"));
      assertThat(node.store.active().orElseThrow().version()).isEqualTo(2);
    }
  }

  private UpdateAssignment offer(BundleServer server, TestNode node, String id, Path src, long v)
      throws Exception {
    return server.offer(
        id + "-" + nodeId,
        "bundle-" + v,
        legit.ref(src, v),
        src,
        UpdateAssignment.DEFAULT_CHUNK_BYTES,
        node.topics);
  }

  private UpdateResult finalResult(List<UpdateResult> results, String id) {
    return results.stream()
        .filter(r -> (id + "-" + nodeId).equals(r.assignmentId()))
        .filter(r -> r.outcome() != UpdateOutcome.VERIFIED)
        .findFirst()
        .orElse(null);
  }
}
