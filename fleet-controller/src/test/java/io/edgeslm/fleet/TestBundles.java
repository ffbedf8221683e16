package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.catalog.UploadedFile;
import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleSigner;
import io.edgeslm.signing.ReleaseMetadata;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.signing.TargetSelector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

/** Signed bundles written for a test: random model bytes, a release.json, model.sig. */
public final class TestBundles {

  private TestBundles() {}

  /** Writes and signs a bundle in a new directory under {@code parent}. */
  public static Path signed(Path parent, SigningKey key, String model, long version, int modelBytes)
      throws Exception {
    return signed(parent, key, model, version, modelBytes, null);
  }

  /**
   * Writes and signs a bundle; with a {@code baseDigest} its release.json says it is a LoRA adapter
   * for that base model.
   */
  public static Path signed(
      Path parent, SigningKey key, String model, long version, int modelBytes, String baseDigest)
      throws Exception {
    Path dir = Files.createTempDirectory(parent, model + "-v" + version + "-");
    byte[] weights = new byte[modelBytes];
    new Random(version * 31 + modelBytes).nextBytes(weights);
    Files.write(dir.resolve("model.gguf"), weights);
    ReleaseMetadata release =
        new ReleaseMetadata(
            ReleaseMetadata.SCHEMA_VERSION,
            model,
            version,
            "stable",
            Instant.now().plus(365, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS),
            TargetSelector.ANY,
            "0.1.0",
            "model.gguf",
            Optional.empty(),
            "{}");
    if (baseDigest != null) {
      release = release.asAdapterFor(baseDigest);
    }
    Files.write(dir.resolve("release.json"), release.toJson());
    BundleSigner.of(key).sign(dir, BundleOptions.defaults());
    return dir;
  }

  /** Copies the bundle's files to spool files, as the HTTP layer would hand them over. */
  public static List<UploadedFile> spool(Path bundle) throws IOException {
    List<UploadedFile> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(bundle)) {
      for (Path f : files.sorted().toList()) {
        Path tmp = Files.createTempFile("upload-", ".part");
        Files.copy(f, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        out.add(new UploadedFile(f.getFileName().toString(), tmp));
      }
    }
    return out;
  }
}
