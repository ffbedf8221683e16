package io.edgeslm.agent.internal.update;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.agent.update.TestBundles;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleVerifier;
import io.edgeslm.signing.ReleaseTrack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA adapter bundles through the update machine on a simulated node ({@link NodeSimulator}: real
 * store, journal and gate on disk). An adapter is verified like a model, refused unless the node
 * serves the base it names, stored beside that base (which stays untouched), activated as base +
 * adapter, soaked, and rolled back to the previous adapter or to the base alone.
 */
class AdapterUpdateMachineTest {

  static final ReleaseTrack ADAPTER_TRACK =
      new ReleaseTrack(TestBundles.ADAPTER, TestBundles.CHANNEL);
  static final ReleaseTrack MODEL_TRACK = new ReleaseTrack(TestBundles.MODEL, TestBundles.CHANNEL);

  static TestBundles bundles;
  @TempDir static Path src;
  static Path base1;
  static Path base2;
  static String base1Digest;
  static String base2Digest;
  static Path adapterA1;
  static Path adapterA2;
  static Path adapterForBase2;
  static Path tamperedAdapter;
  static ModelRef tamperedRef;

  @TempDir Path tmp;

  @BeforeAll
  static void signBundles() throws Exception {
    bundles = new TestBundles();
    base1 = bundles.bundle(src.resolve("base-v1"), TestBundles.Spec.version(1));
    base2 = bundles.bundle(src.resolve("base-v2"), TestBundles.Spec.version(2));
    base1Digest = bundles.ref(base1, 1).digest();
    base2Digest = bundles.ref(base2, 2).digest();
    adapterA1 = bundles.adapter(src.resolve("lora-v1"), 1, base1Digest, 41, 7);
    adapterA2 = bundles.adapter(src.resolve("lora-v2"), 2, base1Digest, 41, 8);
    adapterForBase2 = bundles.adapter(src.resolve("lora-other-base"), 3, base2Digest, 42, 9);
    tamperedAdapter = bundles.adapter(src.resolve("lora-tampered"), 3, base1Digest, 41, 10);
    tamperedRef = bundles.adapterRef(tamperedAdapter, 3); // as signed, announced by the controller
    // One byte of the adapter's tensors flipped after signing: the manifest no longer matches.
    Path f = tamperedAdapter.resolve("adapter.gguf");
    byte[] bytes = Files.readAllBytes(f);
    bytes[bytes.length - 5] ^= 0x20;
    Files.write(f, bytes);
  }

  /** A node serving base v1, committed. */
  NodeSimulator nodeServingBase() throws Exception {
    NodeSimulator n = new NodeSimulator(tmp.resolve("node"), bundles.trust()).start(List.of());
    n.assign(n.offer("as-base", base1, bundles.ref(base1, 1))).advance(Duration.ofMinutes(2));
    assertThat(n.store.active().orElseThrow().digest()).isEqualTo(base1Digest.substring(7));
    return n;
  }

  UpdateAssignment adapter(NodeSimulator n, String id, Path bundle, long version) throws Exception {
    return n.offerAdapter(id, bundle, bundles.adapterRef(bundle, version), base1Digest);
  }

  static String hex(ModelRef ref) {
    return ref.digest().substring(7);
  }

  static UpdateMachine.PublishResult last(NodeSimulator n, String id) {
    return UpdateMachineTest.last(n, id);
  }

  static UpdateCommand rollback(NodeSimulator n, String id) {
    return new UpdateCommand(
        Protocol.SCHEMA_VERSION, id, CommandAction.ROLLBACK, null, "operator", n.now, null);
  }

  /** A node serving base v1 with adapter v1 on top, committed. */
  NodeSimulator nodeServingAdapter() throws Exception {
    NodeSimulator n = nodeServingBase();
    n.assign(adapter(n, "as-lora-1", adapterA1, 1)).advance(Duration.ofMinutes(2));
    assertThat(last(n, "as-lora-1").outcome()).isEqualTo(UpdateOutcome.ACTIVATED);
    return n;
  }

  // ---- the whole path ----

  @Test
  void adapterOverMqtt_storedBesideTheUntouchedBase_servedAsBasePlusAdapter_soakedAndCommitted()
      throws Exception {
    NodeSimulator n = nodeServingBase();
    Path baseDir = n.store.directory(n.store.active().orElseThrow());
    ModelRef a1 = bundles.adapterRef(adapterA1, 1);

    n.assign(adapter(n, "as-lora-1", adapterA1, 1));

    // On trial: the runtime serves base + adapter, the base alone is what a rollback returns to.
    assertThat(n.state.job().phase()).isEqualTo(UpdateMachine.Phase.SOAKING);
    assertThat(n.serving.digest()).isEqualTo(base1Digest.substring(7));
    assertThat(n.serving.adapter().digest()).isEqualTo(hex(a1));
    assertThat(n.reopened().interruptedTrial()).isPresent();

    n.advance(Duration.ofSeconds(61));

    UpdateMachine.PublishResult r = last(n, "as-lora-1");
    assertThat(r.outcome()).isEqualTo(UpdateOutcome.ACTIVATED);
    assertThat(r.model()).isEqualTo(a1);
    assertThat(r.active().digest()).isEqualTo(base1Digest);
    ModelStore disk = n.reopened();
    StoredModel active = disk.active().orElseThrow();
    assertThat(active.digest()).isEqualTo(base1Digest.substring(7));
    assertThat(active.adapter().digest()).isEqualTo(hex(a1));
    assertThat(active.adapter().baseDigest()).isEqualTo(base1Digest.substring(7));
    assertThat(disk.previous().orElseThrow().digest()).isEqualTo(base1Digest.substring(7));
    assertThat(disk.previous().orElseThrow().adapter()).isNull();
    assertThat(disk.pointer().trial()).isFalse();
    // The adapter has its own version track; the base's mark is unchanged.
    assertThat(disk.marks().get(ADAPTER_TRACK).version()).isEqualTo(1);
    assertThat(disk.marks().get(MODEL_TRACK).version()).isEqualTo(1);
    // Stored beside the base, which still verifies byte for byte where it was.
    assertThat(disk.isInstalled(hex(a1))).isTrue();
    assertThat(disk.directory(active)).isEqualTo(baseDir);
    n.gate.recheck(disk, active);
    assertThat(BundleVerifier.of(bundles.trust()).verify(baseDir, installedOptions()).rootDigest())
        .isEqualTo(base1Digest.substring(7));
    assertThat(disk.stagingIds()).isEmpty();
    assertThat(n.journaled("as-lora-1"))
        .containsExactly(
            JournalEvent.ASSIGNED,
            JournalEvent.DOWNLOAD_STARTED,
            JournalEvent.DOWNLOADED,
            JournalEvent.VERIFIED,
            JournalEvent.ACTIVATED);
  }

  static BundleOptions installedOptions() {
    List<String> ignore = new java.util.ArrayList<>(BundleOptions.defaults().ignorePaths());
    ignore.add(ModelStore.MARKER);
    return BundleOptions.defaults().withIgnorePaths(ignore);
  }

  @Test
  void restartWithACommittedAdapter_bootRechecksBaseAndAdapter_servesBothAgain() throws Exception {
    NodeSimulator n = nodeServingAdapter();
    n.journal.close();

    NodeSimulator after = new NodeSimulator(n.data, bundles.trust()).start(n.persistedFinished);

    assertThat(after.rechecked).hasSize(1);
    assertThat(after.serving.adapter().digest()).isEqualTo(hex(bundles.adapterRef(adapterA1, 1)));
    assertThat(after.servingScore).isEqualTo(0.9);
  }

  // ---- attacks ----

  @Test
  void tamperedAdapter_rejectedAsTampered_nothingInstalled_basePlusAdapterKeepsServing()
      throws Exception {
    NodeSimulator n = nodeServingAdapter();

    n.assign(n.offerAdapter("as-bad", tamperedAdapter, tamperedRef, base1Digest))
        .advance(Duration.ofMinutes(2));

    UpdateMachine.PublishResult r = last(n, "as-bad");
    assertThat(r.outcome()).isEqualTo(UpdateOutcome.REJECTED);
    assertThat(r.reasonCode()).isEqualTo(ReasonCode.TAMPERED);
    ModelStore disk = n.reopened();
    assertThat(disk.active().orElseThrow().adapter().version()).isEqualTo(1);
    assertThat(disk.marks().get(ADAPTER_TRACK).version()).isEqualTo(1);
    assertThat(disk.stagingIds()).isEmpty();
    assertThat(n.serving.adapter().version()).isEqualTo(1);
  }

  @Test
  void adapterForAnotherBase_refusedBeforeAnyDownload_namingTheRuleAndBothBases() throws Exception {
    NodeSimulator n = nodeServingBase();
    int transfers = n.transfers.size();
    ModelRef other = bundles.adapterRef(adapterForBase2, 3);

    n.assign(n.offerAdapter("as-other", adapterForBase2, other, base2Digest));

    UpdateMachine.PublishResult r = last(n, "as-other");
    assertThat(r.outcome()).isEqualTo(UpdateOutcome.REJECTED);
    assertThat(r.reasonCode()).isEqualTo(ReasonCode.WRONG_BASE_MODEL);
    assertThat(r.reason())
        .contains("applies to base model " + base2Digest)
        .contains("this node serves " + TestBundles.MODEL + " v1")
        .contains("Roll the base model out to this node first");
    assertThat(n.transfers).hasSize(transfers);
    assertThat(n.reopened().active().orElseThrow().adapter()).isNull();
  }

  @Test
  void adapterForAnotherBase_assignmentClaimsThisNodesBase_refusedOnTheSignedRelease()
      throws Exception {
    NodeSimulator n = nodeServingBase();
    ModelRef other = bundles.adapterRef(adapterForBase2, 3);

    // The assignment lies about the base: the signed release.json decides.
    n.assign(n.offerAdapter("as-liar", adapterForBase2, other, base1Digest));

    UpdateMachine.PublishResult r = last(n, "as-liar");
    assertThat(r.outcome()).isEqualTo(UpdateOutcome.REJECTED);
    assertThat(r.reasonCode()).isEqualTo(ReasonCode.ASSIGNMENT_MISMATCH);
    ModelStore disk = n.reopened();
    assertThat(disk.isInstalled(hex(other))).isFalse();
    assertThat(disk.active().orElseThrow().adapter()).isNull();
  }

  @Test
  void adapterForAnotherBase_overUsb_refusedAsWrongBaseModel_notInstalled() throws Exception {
    NodeSimulator n = nodeServingBase();
    Path staged = n.store.stagingDir("usb-other").resolve("bundle");
    UsbSideLoader.copyBundle(adapterForBase2, staged, n.store);

    n.send(new UpdateMachine.UsbBundleFound("usb-other", staged));

    UpdateException e = n.usbDone.get("usb-other").error();
    assertThat(e.reasonCode()).isEqualTo(ReasonCode.WRONG_BASE_MODEL);
    assertThat(e.getMessage()).contains(base2Digest.substring(7));
    ModelStore disk = n.reopened();
    assertThat(disk.isInstalled(hex(bundles.adapterRef(adapterForBase2, 3)))).isFalse();
    assertThat(disk.stagingIds()).isEmpty();
  }

  @Test
  void adapterOnANodeWithoutAModel_refusedAsWrongBaseModel() throws Exception {
    NodeSimulator n = new NodeSimulator(tmp.resolve("empty"), bundles.trust()).start(List.of());

    n.assign(adapter(n, "as-lora-1", adapterA1, 1));

    assertThat(last(n, "as-lora-1").reasonCode()).isEqualTo(ReasonCode.WRONG_BASE_MODEL);
    assertThat(last(n, "as-lora-1").reason()).contains("this node serves no verified model");
    assertThat(n.serving).isNull();
  }

  @Test
  void rollback_olderAdapterVersion_refusedBeforeAnyDownload() throws Exception {
    NodeSimulator n = nodeServingBase();
    n.assign(adapter(n, "as-lora-2", adapterA2, 2)).advance(Duration.ofMinutes(2));
    int transfers = n.transfers.size();

    n.assign(adapter(n, "as-lora-1", adapterA1, 1));

    assertThat(last(n, "as-lora-1").reasonCode()).isEqualTo(ReasonCode.ROLLBACK);
    assertThat(n.transfers).hasSize(transfers);
    assertThat(n.reopened().active().orElseThrow().adapter().version()).isEqualTo(2);
  }

  // ---- faults and rollbacks ----

  @Test
  void adapterFailsItsActivation_rolledBackToTheBaseAlone_adapterNotKept() throws Exception {
    NodeSimulator n = nodeServingBase();
    UpdateAssignment a = adapter(n, "as-lora-1", adapterA1, 1);
    n.activationFailures.put(
        hex(a.model()),
        new UpdateException(
            UpdateException.Fault.MODEL, ReasonCode.MODEL_LOAD_FAILED, "incorrect shape"));

    n.assign(a);

    UpdateMachine.PublishResult r = last(n, "as-lora-1");
    assertThat(r.outcome()).isEqualTo(UpdateOutcome.ROLLED_BACK);
    assertThat(r.reasonCode()).isEqualTo(ReasonCode.MODEL_LOAD_FAILED);
    ModelStore disk = n.reopened();
    assertThat(disk.active().orElseThrow().adapter()).isNull();
    assertThat(disk.active().orElseThrow().digest()).isEqualTo(base1Digest.substring(7));
    assertThat(disk.isInstalled(hex(a.model()))).isFalse();
    assertThat(disk.marks()).doesNotContainKey(ADAPTER_TRACK);
  }

  @Test
  void soakOfASecondAdapterFails_rolledBackToThePreviousAdapter() throws Exception {
    NodeSimulator n = nodeServingAdapter();
    n.assign(adapter(n, "as-lora-2", adapterA2, 2));
    n.health = new ModelRuntime.Sample(true, 1, 0, 0, 0);

    n.advance(Duration.ofSeconds(10));

    assertThat(last(n, "as-lora-2").reasonCode()).isEqualTo(ReasonCode.SOAK_FAILED);
    assertThat(n.serving.adapter().version()).isEqualTo(1);
    ModelStore disk = n.reopened();
    assertThat(disk.active().orElseThrow().adapter().version()).isEqualTo(1);
    assertThat(disk.marks().get(ADAPTER_TRACK).version()).isEqualTo(1);
    assertThat(disk.isInstalled(hex(bundles.adapterRef(adapterA2, 2)))).isFalse();
  }

  @Test
  void orderedRollback_ofACommittedAdapter_returnsToTheBaseAlone_thenNothingIsLeftToRollBackTo()
      throws Exception {
    NodeSimulator n = nodeServingAdapter();
    String adapterDigest = n.store.active().orElseThrow().adapter().digest();

    n.send(new UpdateMachine.CommandReceived(rollback(n, "cmd-1")));

    UpdateMachine.PublishResult cmd =
        n.results.stream().filter(r -> "cmd-1".equals(r.commandId())).findFirst().orElseThrow();
    assertThat(cmd.outcome()).isEqualTo(UpdateOutcome.ROLLED_BACK);
    assertThat(cmd.active().digest()).isEqualTo(base1Digest);
    assertThat(n.serving.adapter()).isNull();
    assertThat(n.serving.digest()).isEqualTo(base1Digest.substring(7));
    ModelStore disk = n.reopened();
    assertThat(disk.active().orElseThrow().adapter()).isNull();
    assertThat(disk.isInstalled(adapterDigest)).isFalse();
    assertThat(disk.isInstalled(base1Digest.substring(7))).isTrue();

    n.send(new UpdateMachine.CommandReceived(rollback(n, "cmd-2")));

    UpdateMachine.PublishResult again =
        n.results.stream().filter(r -> "cmd-2".equals(r.commandId())).findFirst().orElseThrow();
    assertThat(again.reasonCode()).isEqualTo(ReasonCode.NO_PREVIOUS_MODEL);
    assertThat(n.reopened().active().orElseThrow().digest()).isEqualTo(base1Digest.substring(7));
  }

  @Test
  void orderedRollback_ofASecondAdapter_returnsToThePreviousAdapter() throws Exception {
    NodeSimulator n = nodeServingAdapter();
    n.assign(adapter(n, "as-lora-2", adapterA2, 2)).advance(Duration.ofMinutes(2));
    assertThat(n.serving.adapter().version()).isEqualTo(2);

    n.send(new UpdateMachine.CommandReceived(rollback(n, "cmd-1")));

    assertThat(n.serving.adapter().version()).isEqualTo(1);
    ModelStore disk = n.reopened();
    assertThat(disk.active().orElseThrow().adapter().version()).isEqualTo(1);
    assertThat(disk.previous()).isEmpty();
  }

  @Test
  void newBaseModelWhileAnAdapterServes_servesAlone_aRollbackReturnsToBasePlusAdapter()
      throws Exception {
    NodeSimulator n = nodeServingAdapter();

    n.assign(n.offer("as-base-2", base2, bundles.ref(base2, 2))).advance(Duration.ofMinutes(2));

    assertThat(n.serving.digest()).isEqualTo(base2Digest.substring(7));
    assertThat(n.serving.adapter()).isNull();
    assertThat(n.reopened().previous().orElseThrow().adapter().version()).isEqualTo(1);

    n.send(new UpdateMachine.CommandReceived(rollback(n, "cmd-1")));

    assertThat(n.serving.digest()).isEqualTo(base1Digest.substring(7));
    assertThat(n.serving.adapter().version()).isEqualTo(1);
  }

  @Test
  void adapterCorruptedOnDiskWhileTheNodeWasOff_notServedAtBoot_theBaseAloneServes()
      throws Exception {
    NodeSimulator n = nodeServingAdapter();
    StoredModel active = n.store.active().orElseThrow();
    Path f = n.store.directory(active.adapter()).resolve("adapter.gguf");
    byte[] bytes = Files.readAllBytes(f);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(f, bytes);
    n.journal.close();

    NodeSimulator after = new NodeSimulator(n.data, bundles.trust()).start(n.persistedFinished);

    assertThat(after.servingProblems).hasSize(1);
    assertThat(after.servingProblems.getFirst().code()).isEqualTo(ReasonCode.TAMPERED);
    assertThat(after.serving.digest()).isEqualTo(base1Digest.substring(7));
    assertThat(after.serving.adapter()).isNull();
    ModelStore disk = after.reopened();
    assertThat(disk.active().orElseThrow().adapter()).isNull();
    assertThat(disk.isInstalled(active.adapter().digest())).isFalse();
  }

  @Test
  void usbStickOfTheServingAdapter_stillInAfterARestart_isNotANewAttempt() throws Exception {
    NodeSimulator n = nodeServingAdapter();
    int journaled = n.journal.entries().size();
    Path staged = n.store.stagingDir("usb-again").resolve("bundle");
    UsbSideLoader.copyBundle(adapterA1, staged, n.store);

    n.send(new UpdateMachine.UsbBundleFound("usb-again", staged));

    assertThat(n.usbDone.get("usb-again").error()).isNull();
    assertThat(n.journal.entries()).hasSize(journaled);
  }

  @Test
  void adapterOverUsb_verifiedActivatedAndCommittedLikeOverMqtt() throws Exception {
    NodeSimulator n = nodeServingBase();
    Path staged = n.store.stagingDir("usb-1").resolve("bundle");
    UsbSideLoader.copyBundle(adapterA1, staged, n.store);

    n.send(new UpdateMachine.UsbBundleFound("usb-1", staged)).advance(Duration.ofMinutes(2));

    assertThat(n.usbDone.get("usb-1").error()).isNull();
    assertThat(n.reopened().active().orElseThrow().adapter().version()).isEqualTo(1);
  }

  // ---- power cuts ----

  @Test
  void
      powerCutAfterEveryEffectOfAnAdapterUpdate_aVerifiedModelServesAfterTheRestart_andTheUpdateCompletesOnce()
          throws Exception {
    NodeSimulator probe = new NodeSimulator(tmp.resolve("probe"), bundles.trust()).start(List.of());
    probe.assign(probe.offer("as-base", base1, bundles.ref(base1, 1)));
    probe.advance(Duration.ofMinutes(2));
    int before = probe.effectsRun;
    probe.assign(adapter(probe, "as-lora-1", adapterA1, 1)).advance(Duration.ofMinutes(2));
    int total = probe.effectsRun - before;
    assertThat(total).isGreaterThan(10);

    for (int cut = 0; cut <= total; cut++) {
      Path dir = tmp.resolve("cut-" + cut);
      NodeSimulator n = new NodeSimulator(dir, bundles.trust()).start(List.of());
      n.assign(n.offer("as-base", base1, bundles.ref(base1, 1))).advance(Duration.ofMinutes(2));
      UpdateAssignment a = adapter(n, "as-lora-1", adapterA1, 1);
      n.powerCutAfter(cut).assign(a).advance(Duration.ofMinutes(2));
      n.journal.close();

      // After the cut the pointer names a verified entry: the base, alone or with the adapter.
      ModelStore disk = ModelStore.open(dir);
      StoredModel active = disk.active().orElseThrow();
      assertThat(active.digest()).as("cut %d", cut).isEqualTo(base1Digest.substring(7));
      assertThat(disk.isInstalled(active)).as("cut %d", cut).isTrue();
      n.gate.recheck(disk, active);

      // The restart serves the base (a trial is rolled back) and finishes the update once.
      NodeSimulator after = new NodeSimulator(dir, bundles.trust()).start(n.persistedFinished);
      after.bundleServer.put("as-lora-1", adapterA1);
      assertThat(after.serving).as("cut %d", cut).isNotNull();
      assertThat(after.serving.digest()).as("cut %d", cut).isEqualTo(base1Digest.substring(7));
      after.assign(a).advance(Duration.ofMinutes(2));
      ModelStore end = after.reopened();
      StoredModel now = end.active().orElseThrow();
      boolean ended = after.persistedFinished.contains("as-lora-1");
      assertThat(ended).as("cut %d: the assignment ended", cut).isTrue();
      if (now.adapter() != null) {
        assertThat(now.adapter().version()).as("cut %d", cut).isEqualTo(1);
        assertThat(end.pointer().trial()).as("cut %d", cut).isFalse();
      }
      long activated =
          after.journal.entries().stream()
              .filter(e -> "as-lora-1".equals(e.assignmentId()))
              .filter(e -> e.event() == JournalEvent.ACTIVATED)
              .count();
      assertThat(activated).as("cut %d: activated at most once", cut).isLessThanOrEqualTo(1);
      after.journal.close();
    }
  }
}
