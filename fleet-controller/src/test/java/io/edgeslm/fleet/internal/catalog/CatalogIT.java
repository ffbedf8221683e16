package io.edgeslm.fleet.internal.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.BundleRejectedException;
import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.FleetInputException;
import io.edgeslm.fleet.TestBundles;
import io.edgeslm.fleet.TestDatabases;
import io.edgeslm.fleet.internal.store.CatalogStore;
import io.edgeslm.fleet.internal.store.Db;
import io.edgeslm.fleet.internal.store.RolloutStore;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleVerifier;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.signing.TrustStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Upload verification against the trust store, on an H2 catalog and a real bundle store. */
class CatalogIT {

  @TempDir Path tmp;
  SigningKey trusted = SigningKey.generate(KeyCurve.P256);
  TrustStore trust;
  Catalog catalog;

  @BeforeEach
  void open() throws Exception {
    trust = TrustStore.pinned(List.of(trusted.verificationKey()));
    Db db = new Db(TestDatabases.h2());
    catalog =
        new Catalog(
            new CatalogStore(db),
            new RolloutStore(db),
            new BundleFiles(tmp.resolve("store")),
            BundleVerifier.of(trust),
            4096,
            Clock.systemUTC());
  }

  /** The reason the model-signing verifier itself gives for {@code dir}. */
  String verifierReason(Path dir) {
    try {
      BundleVerifier.of(trust).verify(dir, BundleOptions.defaults());
      throw new AssertionError("the fixture should not verify");
    } catch (SigningException e) {
      return "The bundle failed verification against the controller's trust store: "
          + e.getMessage().replace(dir + "/", "").replace(dir.toString(), "the uploaded bundle");
    }
  }

  @Test
  void upload_signedByTrustedKey_isStoredWithChunkHashes() throws Exception {
    Path bundle = TestBundles.signed(tmp, trusted, "phi-mini", 7, 10_000);
    BundleInfo info = catalog.upload(TestBundles.spool(bundle), "alice");

    assertThat(info.bundleId()).startsWith("phi-mini-v7-");
    assertThat(info.model().channel()).isEqualTo("stable");
    BundleFile model =
        info.files().stream().filter(f -> f.name().equals("model.gguf")).findFirst().orElseThrow();
    assertThat(model.sizeBytes()).isEqualTo(10_000);
    assertThat(model.chunks()).hasSize(3);
    assertThat(catalog.files().read(info.bundleId(), "model.gguf", 8192, 1808))
        .isEqualTo(
            java.util.Arrays.copyOfRange(
                Files.readAllBytes(bundle.resolve("model.gguf")), 8192, 10_000));
    assertThat(catalog.list(null, 10).items()).containsExactly(info);
    assertThatThrownBy(() -> catalog.upload(TestBundles.spool(bundle), "alice"))
        .isInstanceOf(FleetConflictException.class);
  }

  @Test
  void upload_tamperedModelByte_isRejectedWithTheVerifiersReason() throws Exception {
    Path bundle = TestBundles.signed(tmp, trusted, "phi-mini", 8, 10_000);
    byte[] weights = Files.readAllBytes(bundle.resolve("model.gguf"));
    weights[5000] ^= 1;
    Files.write(bundle.resolve("model.gguf"), weights);
    String reason = verifierReason(bundle);

    assertThatThrownBy(() -> catalog.upload(TestBundles.spool(bundle), "alice"))
        .isInstanceOf(BundleRejectedException.class)
        .hasMessage(reason);
    assertThat(reason).contains("model.gguf");
    assertThat(catalog.list(null, 10).items()).isEmpty();
    assertThat(stagingLeftovers()).isZero();
  }

  @Test
  void upload_unsigned_isRejectedWithTheVerifiersReason() throws Exception {
    Path bundle = TestBundles.signed(tmp, trusted, "phi-mini", 9, 1000);
    Files.delete(bundle.resolve("model.sig"));
    String reason = verifierReason(bundle);

    assertThatThrownBy(() -> catalog.upload(TestBundles.spool(bundle), "alice"))
        .isInstanceOf(BundleRejectedException.class)
        .hasMessage(reason);
  }

  @Test
  void upload_signedByUnknownKey_isRejectedWithTheVerifiersReason() throws Exception {
    Path bundle = TestBundles.signed(tmp, SigningKey.generate(KeyCurve.P256), "phi-mini", 10, 1000);
    String reason = verifierReason(bundle);

    assertThatThrownBy(() -> catalog.upload(TestBundles.spool(bundle), "alice"))
        .isInstanceOf(BundleRejectedException.class)
        .hasMessage(reason);
  }

  static final String MISSING_RELEASE =
      "The bundle has no release.json, its signed release metadata (model name, version, channel,"
          + " expiry), so the controller cannot tell what it would roll out. Write it into the"
          + " bundle directory with model-signing's 'release init', sign the bundle again and"
          + " upload all its files.";

  @Test
  void upload_withoutReleaseJson_isRejectedNamingTheFileAndWhatToDo() throws Exception {
    Path bundle = TestBundles.signed(tmp, trusted, "phi-mini", 12, 1000);
    List<UploadedFile> files =
        TestBundles.spool(bundle).stream().filter(f -> !f.name().equals("release.json")).toList();
    assertThat(files).extracting(UploadedFile::name).containsExactly("model.gguf", "model.sig");

    assertThatThrownBy(() -> catalog.upload(files, "alice"))
        .isInstanceOf(BundleRejectedException.class)
        .hasMessage(MISSING_RELEASE);
    assertThat(catalog.list(null, 10).items()).isEmpty();
    assertThat(stagingLeftovers()).isZero();
  }

  @Test
  void upload_signedWithoutReleaseJson_isRejectedNamingTheFileAndWhatToDo() throws Exception {
    Path bundle = Files.createDirectory(tmp.resolve("no-release"));
    Files.write(bundle.resolve("model.gguf"), new byte[1000]);
    io.edgeslm.signing.BundleSigner.of(trusted).sign(bundle, BundleOptions.defaults());
    BundleVerifier.of(trust).verify(bundle, BundleOptions.defaults()); // a valid signature

    assertThatThrownBy(() -> catalog.upload(TestBundles.spool(bundle), "alice"))
        .isInstanceOf(BundleRejectedException.class)
        .hasMessage(MISSING_RELEASE);
    assertThat(catalog.list(null, 10).items()).isEmpty();
  }

  @Test
  void upload_extraUnsignedFile_isRejected() throws Exception {
    Path bundle = TestBundles.signed(tmp, trusted, "phi-mini", 11, 1000);
    Files.writeString(bundle.resolve("extra.txt"), "not signed", StandardOpenOption.CREATE_NEW);
    String reason = verifierReason(bundle);
    assertThatThrownBy(() -> catalog.upload(TestBundles.spool(bundle), "alice"))
        .isInstanceOf(BundleRejectedException.class)
        .hasMessage(reason);
  }

  @Test
  void upload_pathTraversalName_isRefusedBeforeAnythingIsWritten() throws Exception {
    Path part = Files.writeString(tmp.resolve("p"), "x");
    assertThatThrownBy(
            () -> catalog.upload(List.of(new UploadedFile("../escape.gguf", part)), "alice"))
        .isInstanceOf(FleetInputException.class)
        .hasMessage(
            "File name '../escape.gguf' is not a relative bundle path of segments made of A-Z a-z"
                + " 0-9 . _ - (no '..', no absolute paths, at most 8 levels). Rename the file.");
    assertThat(Files.exists(tmp.resolve("store").getParent().resolve("escape.gguf"))).isFalse();
  }

  long stagingLeftovers() throws Exception {
    try (Stream<Path> s = Files.list(tmp.resolve("store/.staging"))) {
      return s.count();
    }
  }
}
