package io.edgeslm.signing;

import static io.edgeslm.signing.TestBundles.release;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA adapter bundles: release.json says {@code kind: adapter} and names the digest of the base
 * model bundle the adapter applies to; model bundles written before adapters existed are unchanged.
 */
class AdapterReleaseTest {
  private static final String BASE = "sha256:" + "ab".repeat(32);
  private static final String OTHER_BASE = "sha256:" + "cd".repeat(32);

  @TempDir Path tmp;

  private final SigningKey releaseKey = SigningKey.generate(KeyCurve.P256);

  private VerifiedBundle verify(Path dir) throws SigningException {
    return BundleVerifier.of(TrustStore.pinned(List.of(releaseKey.verificationKey())))
        .verify(dir, BundleOptions.defaults());
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void modelRelease_withoutKindField_isAModel_andIsWrittenWithoutTheNewFields() throws Exception {
    String json = new String(release(1).toJson(), StandardCharsets.UTF_8);
    assertThat(json).doesNotContain("\"kind\"").doesNotContain("baseModelDigest");

    ReleaseMetadata parsed = ReleaseMetadata.parse(utf8(json), "release.json");

    assertThat(parsed.kind()).isEqualTo(ReleaseKind.MODEL);
    assertThat(parsed.baseModelDigest()).isEmpty();
    assertThat(parsed).isEqualTo(release(1));
  }

  @Test
  void adapterRelease_roundTripsKindAndBaseDigest() throws Exception {
    ReleaseMetadata adapter = release(2).asAdapterFor(BASE);

    ReleaseMetadata parsed = ReleaseMetadata.parse(adapter.toJson(), "release.json");

    assertThat(parsed.kind()).isEqualTo(ReleaseKind.ADAPTER);
    assertThat(parsed.baseModelDigest()).contains(BASE);
    assertThat(parsed).isEqualTo(adapter);
  }

  @Test
  void adapterWithoutBaseDigest_refusedNamingTheRule() {
    String json =
        new String(release(2).toJson(), StandardCharsets.UTF_8)
            .replace("\"modelFile\"", "\"kind\" : \"adapter\",\n  \"modelFile\"");

    assertThatThrownBy(() -> ReleaseMetadata.parse(utf8(json), "release.json"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("release.json: kind 'adapter' requires baseModelDigest")
        .hasMessageContaining("--base-model-digest");
  }

  @Test
  void baseDigestOnAModel_unknownKind_andMalformedDigest_refused() {
    String model = new String(release(2).toJson(), StandardCharsets.UTF_8);
    String withBase =
        model.replace("\"modelFile\"", "\"baseModelDigest\" : \"" + BASE + "\",\n  \"modelFile\"");
    String lora = model.replace("\"modelFile\"", "\"kind\" : \"lora\",\n  \"modelFile\"");
    String shortDigest =
        new String(release(2).asAdapterFor(BASE).toJson(), StandardCharsets.UTF_8)
            .replace(BASE, "sha256:abc");

    assertThatThrownBy(() -> ReleaseMetadata.parse(utf8(withBase), "release.json"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("is only allowed with kind 'adapter'");
    assertThatThrownBy(() -> ReleaseMetadata.parse(utf8(lora), "release.json"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("release.json.kind \"lora\" is not 'model' or 'adapter'");
    assertThatThrownBy(() -> ReleaseMetadata.parse(utf8(shortDigest), "release.json"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining(
            "baseModelDigest 'sha256:abc' must be sha256: and 64 lowercase hex digits");
  }

  @Test
  void signedAdapter_verifiesWithItsBaseDigest() throws Exception {
    Path dir = TestBundles.model(tmp, "adapter", release(3).asAdapterFor(BASE));
    BundleSigner.of(releaseKey).sign(dir, BundleOptions.defaults());

    VerifiedBundle b = verify(dir);

    assertThat(b.release()).isPresent();
    assertThat(b.release().get().kind()).isEqualTo(ReleaseKind.ADAPTER);
    assertThat(b.release().get().baseModelDigest()).contains(BASE);
  }

  @Test
  void tamper_baseDigestChangedAfterSigning_rejectedAsDigestMismatch() throws Exception {
    Path dir = TestBundles.model(tmp, "adapter", release(3).asAdapterFor(BASE));
    BundleSigner.of(releaseKey).sign(dir, BundleOptions.defaults());
    Path rel = dir.resolve("release.json");
    Files.writeString(rel, Files.readString(rel).replace(BASE, OTHER_BASE));

    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageStartingWith("Digest mismatch for 'release.json': signed sha256:");
  }

  @Test
  void sign_adapterReleaseWithoutBaseDigest_refusedBeforeSigning() throws Exception {
    Path dir = TestBundles.model(tmp, "adapter", null);
    String json =
        new String(release(3).toJson(), StandardCharsets.UTF_8)
            .replace("\"modelFile\"", "\"kind\" : \"adapter\",\n  \"modelFile\"");
    TestBundles.write(dir, "release.json", json);

    assertThatThrownBy(() -> BundleSigner.of(releaseKey).sign(dir, BundleOptions.defaults()))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("kind 'adapter' requires baseModelDigest");
    assertThat(dir.resolve("model.sig")).doesNotExist();
  }

  @Test
  void verify_validlySignedAdapterWithoutBaseDigest_refused() throws Exception {
    // Another signing tool could sign such a release.json; the verifier still refuses it.
    Path dir = TestBundles.model(tmp, "adapter", null);
    byte[] releaseJson =
        utf8(
            new String(release(3).toJson(), StandardCharsets.UTF_8)
                .replace("\"modelFile\"", "\"kind\" : \"adapter\",\n  \"modelFile\""));
    TestBundles.write(dir, "release.json", releaseJson);
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("model.gguf", Files.readAllBytes(dir.resolve("model.gguf")));
    files.put("prompts/system.txt", Files.readAllBytes(dir.resolve("prompts/system.txt")));
    files.put("release.json", releaseJson);
    TestBundles.signStatement(
        releaseKey,
        utf8(TestBundles.statementJson("adapter", files, "sha256")),
        dir.resolve("model.sig"));

    assertThatThrownBy(() -> verify(dir))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("kind 'adapter' requires baseModelDigest");
  }
}
