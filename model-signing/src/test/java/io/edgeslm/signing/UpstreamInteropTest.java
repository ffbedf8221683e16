package io.edgeslm.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reference vectors of sigstore/model-transparency (scripts/tests, Apache-2.0, copied unchanged
 * into src/test/resources/oms-upstream with their SOURCE.md): P-384 bundles made by the Python
 * model_signing tool in both bundle generations.
 */
class UpstreamInteropTest {
  private static final String ROOT_DIGEST =
      "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4";

  @TempDir Path tmp;

  private static BundleOptions optionsFor(String fixture) {
    // v1.0.1 records no ignore_paths: the verifier is told to ignore ignore-me (see SOURCE.md).
    return fixture.startsWith("v1.0.1")
        ? TestBundles.ignoring("ignore-me")
        : BundleOptions.defaults();
  }

  private static BundleVerifier verifier() throws SigningException {
    return BundleVerifier.of(TrustStore.pinned(List.of(TestBundles.upstreamKey())));
  }

  @Test
  void upstreamKey_idEqualsTheHintTheReferenceToolWrote() throws Exception {
    assertThat(TestBundles.upstreamKey().keyId())
        .isEqualTo("e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e");
    assertThat(TestBundles.upstreamKey().curve()).isEqualTo(KeyCurve.P384);
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1.0.1-elliptic-key", "v1.1.0-elliptic-key"})
  void verify_upstreamBundle_succeedsWithItsPublicKey(String fixture) throws Exception {
    Path dir = TestBundles.copyFixture("oms-upstream/" + fixture, tmp);

    VerifiedBundle b = verifier().verify(dir, optionsFor(fixture));

    assertThat(b.files()).extracting(SignedFile::name).containsExactly("signme-1", "signme-2");
    assertThat(b.rootDigest()).isEqualTo(ROOT_DIGEST);
    assertThat(b.subjectName()).isEqualTo(fixture);
    assertThat(b.signerKeyIds()).containsExactly(TestBundles.upstreamKey().keyId());
    assertThat(b.release()).isEmpty();
  }

  @Test
  void verify_v101WithoutIgnorePath_rejectsIgnoreMeAsExtraFile() throws Exception {
    Path dir = TestBundles.copyFixture("oms-upstream/v1.0.1-elliptic-key", tmp);

    assertThatThrownBy(() -> verifier().verify(dir, BundleOptions.defaults()))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessage(
            "File(s) in "
                + dir.toRealPath()
                + " not covered by the signature: ignore-me. Remove them, or pass them as ignore"
                + " paths if they are expected.");
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1.0.1-elliptic-key", "v1.1.0-elliptic-key"})
  void verify_anyChangedByteOfASignedFile_rejectsWithDigestMismatch(String fixture)
      throws Exception {
    Path dir = TestBundles.copyFixture("oms-upstream/" + fixture, tmp);
    BundleVerifier v = verifier();
    for (String name : List.of("signme-1", "signme-2")) {
      Path f = dir.resolve(name);
      int size = (int) Files.size(f);
      for (int i = 0; i < size; i++) {
        TestBundles.xorByte(f, i, 0x01);
        assertThatThrownBy(() -> v.verify(dir, optionsFor(fixture)))
            .as("%s byte %d", name, i)
            .isInstanceOf(TamperedArtifactException.class)
            .hasMessageStartingWith("Digest mismatch for '" + name + "'");
        TestBundles.xorByte(f, i, 0x01);
      }
    }
    v.verify(dir, optionsFor(fixture));
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1.0.1-elliptic-key", "v1.1.0-elliptic-key"})
  void verify_anyChangedByteOfModelSig_rejects(String fixture) throws Exception {
    Path dir = TestBundles.copyFixture("oms-upstream/" + fixture, tmp);
    Path sig = dir.resolve("model.sig");
    BundleVerifier v = verifier();
    int size = (int) Files.size(sig);
    for (int mask : new int[] {0x01, 0x20}) {
      for (int i = 0; i < size; i++) {
        TestBundles.xorByte(sig, i, mask);
        boolean rejected = false;
        try {
          v.verify(dir, optionsFor(fixture));
        } catch (SigningException expected) {
          rejected = true;
        }
        assertThat(rejected)
            .withFailMessage("model.sig byte %d xor 0x%02x still verifies", i, mask)
            .isTrue();
        TestBundles.xorByte(sig, i, mask);
      }
    }
    v.verify(dir, optionsFor(fixture));
  }

  @Test
  void verify_upstreamBundleWithAnotherKey_rejectsAsUntrusted() throws Exception {
    Path dir = TestBundles.copyFixture("oms-upstream/v1.1.0-elliptic-key", tmp);
    VerificationKey other = SigningKey.generate(KeyCurve.P384).verificationKey();

    assertThatThrownBy(
            () ->
                BundleVerifier.of(TrustStore.pinned(List.of(other)))
                    .verify(dir, BundleOptions.defaults()))
        .isInstanceOf(UntrustedKeyException.class)
        .hasMessageContaining("no signature verifies with a key trusted for role 'release'")
        .hasMessageContaining("the bundle names key e8450dec4eb9… (an unsigned hint)");
  }
}
