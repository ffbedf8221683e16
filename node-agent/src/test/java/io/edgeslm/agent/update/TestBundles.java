package io.edgeslm.agent.update;

import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleSigner;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.ReleaseMetadata;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.signing.TargetSelector;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.SyntheticModel;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/** Signed bundles for update tests: a synthetic GGUF, a release.json, optional padding and eval. */
public final class TestBundles {

  public static final String MODEL = "plant-assistant";
  public static final String CHANNEL = "stable";
  public static final String DEVICE_CLASS = "gateway-m";
  private static final Path MODELS = Path.of("target", "test-models").toAbsolutePath();

  private final SigningKey key;

  /** Bundles signed with a fresh release key (trusted by {@link #trust()}). */
  public TestBundles() {
    this(SigningKey.generate(KeyCurve.P256));
  }

  /** Bundles signed with {@code key}, for tests that rotate a signed trust root. */
  public TestBundles(SigningKey key) {
    this.key = key;
  }

  /** Writes the release key's public PEM (for a child process's trust store). */
  public void writePublicKey(Path file) throws SigningException {
    key.writePublicKey(file);
  }

  public TrustStore trust() {
    return TrustStore.pinned(java.util.List.of(key.verificationKey()));
  }

  /** What to put in a bundle. */
  public record Spec(
      long version,
      Instant expires,
      String deviceClass,
      long seed,
      long paddingBytes,
      Optional<String> evaluation,
      boolean garbageModel) {

    public static Spec version(long v) {
      return new Spec(
          v,
          Instant.parse("2035-01-01T00:00:00Z"),
          DEVICE_CLASS,
          40 + v,
          0,
          Optional.empty(),
          false);
    }

    public Spec expires(Instant at) {
      return new Spec(version, at, deviceClass, seed, paddingBytes, evaluation, garbageModel);
    }

    public Spec deviceClass(String c) {
      return new Spec(version, expires, c, seed, paddingBytes, evaluation, garbageModel);
    }

    public Spec padding(long bytes) {
      return new Spec(version, expires, deviceClass, seed, bytes, evaluation, garbageModel);
    }

    public Spec evaluation(String json) {
      return new Spec(
          version, expires, deviceClass, seed, paddingBytes, Optional.of(json), garbageModel);
    }

    /** A "model" whose bytes are not a GGUF: signed and valid, but the worker cannot load it. */
    public Spec withGarbageModel() {
      return new Spec(version, expires, deviceClass, seed, paddingBytes, evaluation, true);
    }
  }

  /** Writes and signs a bundle into {@code dir} (created). */
  public Path bundle(Path dir, Spec spec) throws IOException, SigningException {
    Files.createDirectories(dir);
    Path gguf = dir.resolve("model.gguf");
    if (spec.garbageModel()) {
      byte[] junk = new byte[256 * 1024];
      new Random(spec.seed()).nextBytes(junk);
      Files.write(gguf, junk);
    } else {
      Files.copy(tinyModel(spec.seed()), gguf, StandardCopyOption.REPLACE_EXISTING);
    }
    if (spec.paddingBytes() > 0) {
      writeRandom(dir.resolve("extra/padding.bin"), spec.paddingBytes(), spec.seed());
    }
    spec.evaluation().ifPresent(e -> write(dir.resolve("eval.json"), e));
    ReleaseMetadata r =
        new ReleaseMetadata(
            1,
            MODEL,
            spec.version(),
            CHANNEL,
            spec.expires(),
            new TargetSelector(Set.of(), Set.of(spec.deviceClass()), 0, Map.of()),
            "0.1.0",
            "model.gguf",
            spec.evaluation().isPresent() ? Optional.of("eval.json") : Optional.empty(),
            "{}");
    Files.write(dir.resolve("release.json"), r.toJson());
    BundleSigner.of(key).sign(dir, BundleOptions.defaults());
    return dir;
  }

  /** The adapters' release name (its own version track). */
  public static final String ADAPTER = "plant-lora";

  /**
   * Writes and signs a LoRA adapter bundle into {@code dir}: a synthetic adapter (seed {@code
   * seed}) for the tiny model of {@code baseSeed}, its release naming {@code baseDigest}.
   *
   * @param baseDigest {@code sha256:} and the base model bundle's root digest
   */
  public Path adapter(Path dir, long version, String baseDigest, long baseSeed, long seed)
      throws IOException, SigningException {
    Files.createDirectories(dir);
    SyntheticModel base = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, baseSeed);
    io.edgeslm.testkit.SyntheticLoraAdapter.of(base, seed).write(dir.resolve("adapter.gguf"));
    ReleaseMetadata r =
        new ReleaseMetadata(
                1,
                ADAPTER,
                version,
                CHANNEL,
                Instant.parse("2035-01-01T00:00:00Z"),
                new TargetSelector(Set.of(), Set.of(DEVICE_CLASS), 0, Map.of()),
                "0.1.0",
                "adapter.gguf",
                Optional.empty(),
                "{}")
            .asAdapterFor(baseDigest);
    Files.write(dir.resolve("release.json"), r.toJson());
    BundleSigner.of(key).sign(dir, BundleOptions.defaults());
    return dir;
  }

  /** The identity of a signed adapter bundle, as the controller announces it. */
  public io.edgeslm.protocol.ModelRef adapterRef(Path dir, long version) throws SigningException {
    var v = io.edgeslm.signing.BundleVerifier.of(trust()).verify(dir, BundleOptions.defaults());
    return new io.edgeslm.protocol.ModelRef(ADAPTER, version, "sha256:" + v.rootDigest(), CHANNEL);
  }

  /** The identity of a signed bundle, as the controller announces it in an assignment. */
  public io.edgeslm.protocol.ModelRef ref(Path dir, long version) throws SigningException {
    var v = io.edgeslm.signing.BundleVerifier.of(trust()).verify(dir, BundleOptions.defaults());
    return new io.edgeslm.protocol.ModelRef(MODEL, version, "sha256:" + v.rootDigest(), CHANNEL);
  }

  /** The synthetic tiny model (Q8_0, about 1 MB) for a seed, written once per build. */
  public static synchronized Path tinyModel(long seed) throws IOException {
    SyntheticModel m = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, seed);
    Path file = MODELS.resolve(m.suggestedFileName());
    if (!Files.exists(file)) {
      m.write(file);
    }
    return file;
  }

  static void writeRandom(Path file, long size, long seed) throws IOException {
    Files.createDirectories(file.getParent());
    Random r = new Random(seed);
    byte[] buf = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(file)) {
      long left = size;
      while (left > 0) {
        r.nextBytes(buf);
        int n = (int) Math.min(buf.length, left);
        out.write(buf, 0, n);
        left -= n;
      }
    }
  }

  private static void write(Path p, String s) {
    try {
      Files.writeString(p, s);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
