package io.edgeslm.signing;

import io.edgeslm.signing.internal.bundle.Layout;
import io.edgeslm.signing.internal.bundle.ModelTree;
import io.edgeslm.signing.internal.bundle.OmsFormat;
import io.edgeslm.signing.internal.bundle.ParallelHasher;
import io.edgeslm.signing.internal.bundle.SigstoreBundleCodec;
import io.edgeslm.signing.internal.bundle.Statement;
import io.edgeslm.signing.internal.bundle.StatementCodec;
import io.edgeslm.signing.internal.crypto.Digests;
import io.edgeslm.signing.internal.crypto.Hex;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Verifies an OpenSSF Model Signing v1.0 bundle ({@code key} method) against a {@link TrustStore}.
 *
 * <p>Order, after the OMS specification: read {@code model.sig} within its size bound; check the
 * media and payload types; verify the signatures over the DSSE PAE of the raw payload with every
 * trusted release key (the bundle's key hint is never used to pick a key) and require the release
 * threshold of distinct keys; only then parse the statement; then compare the files on disk with
 * the listed resources (missing, extra unless ignored, links, special files) and hash every listed
 * file, comparing digests. Resources are never re-sorted. Both bundle generations are accepted
 * ({@code publicKey.hint} from model_signing 1.1+, {@code publicKey.rawBytes} from 1.0.x).
 *
 * <p>Thread-safe; one instance may verify many bundles.
 */
public final class BundleVerifier {
  private final TrustStore trust;

  private BundleVerifier(TrustStore trust) {
    this.trust = trust;
  }

  public static BundleVerifier of(TrustStore trust) {
    return new BundleVerifier(java.util.Objects.requireNonNull(trust, "trust"));
  }

  /**
   * Verifies {@code modelDir}; returns normally only if every check passed.
   *
   * @throws UntrustedKeyException unsigned, unknown/revoked key, or below the release threshold
   * @throws TamperedArtifactException a changed, missing or extra file, a link, or a signature by a
   *     trusted key over different bytes
   * @throws MalformedInputException format errors and size bounds in model.sig, the statement or
   *     release.json
   * @throws SigningIoException the files cannot be read
   */
  public VerifiedBundle verify(Path modelDir, BundleOptions options) throws SigningException {
    Layout layout = Layout.resolve(modelDir, options);
    BundleLimits limits = options.limits();
    Path sigFile = layout.signatureFile();
    byte[] bundleBytes = readBounded(sigFile, limits.maxSignatureFileBytes(), "signature file");
    // Hashing starts before the signature is checked, on background threads: it only reads bytes
    // and decides nothing, and it hides the signature check and class loading behind the I/O.
    // Refusals found on disk are kept until the signed ignore paths are known.
    ModelTree.Scan scan =
        ModelTree.scan(layout.root(), layout.ignoreSet(null), limits, ModelTree.Mode.VERIFY, true);
    List<ModelTree.Entry> speculative =
        scan.entries().stream().filter(e -> !e.name().equals(OmsFormat.RELEASE_FILE)).toList();
    long diskTotal = speculative.stream().mapToLong(ModelTree.Entry::size).sum();
    ParallelHasher.Job job =
        diskTotal <= limits.maxTotalBytes()
            ? ParallelHasher.start(speculative, options.hashThreads(), options.progress())
            : null;
    try {
      return finish(layout, options, sigFile, bundleBytes, scan, speculative, job);
    } catch (SigningException | RuntimeException | Error e) {
      if (job != null) {
        job.cancel();
      }
      throw e;
    }
  }

  private VerifiedBundle finish(
      Layout layout,
      BundleOptions options,
      Path sigFile,
      byte[] bundleBytes,
      ModelTree.Scan scan,
      List<ModelTree.Entry> speculative,
      ParallelHasher.Job job)
      throws SigningException {
    BundleLimits limits = options.limits();
    String source = sigFile.toString();
    SigstoreBundleCodec.Envelope env = SigstoreBundleCodec.parse(bundleBytes, limits, source);

    Set<String> signers =
        TrustStore.signersOf(
            trust.keys(KeyRole.RELEASE), env.payloadType(), env.payload(), env.signatures());
    requireReleaseThreshold(signers, env, source);
    requireConsistentKeyMaterial(signers, env, source);

    Statement statement = StatementCodec.parse(env.payload(), limits, source);
    Set<String> ignores = layout.ignoreSet(statement.ignorePaths());
    scan.throwFirstProblem(ignores);
    Map<String, ModelTree.Entry> byName = new HashMap<>();
    for (ModelTree.Entry e : scan.entries()) {
      if (!io.edgeslm.signing.internal.bundle.ResourceNames.isIgnored(e.name(), ignores)) {
        byName.put(e.name(), e);
      }
    }
    compareFileSets(layout.root(), statement, byName);

    long total = 0;
    for (Statement.Resource r : statement.resources()) {
      total += byName.get(r.name()).size();
    }
    if (total > limits.maxTotalBytes()) {
      throw new MalformedInputException(
          layout.root()
              + ": the signed files total "
              + total
              + " bytes, over the bound of "
              + limits.maxTotalBytes()
              + " (rule: bounded total size). Refuse the bundle or raise the limit.");
    }

    Optional<ReleaseMetadata> release = Optional.empty();
    Map<String, String> found = new HashMap<>();
    if (byName.containsKey(OmsFormat.RELEASE_FILE)) {
      ModelTree.Entry e = byName.get(OmsFormat.RELEASE_FILE);
      // Read once, hash and parse the same bytes: no window between checking and using them.
      byte[] bytes = readBounded(e.path(), limits.maxReleaseBytes(), "release metadata");
      found.put(e.name(), Hex.encode(Digests.sha256(bytes)));
      if (digestOf(statement, e.name()).equals(found.get(e.name()))) {
        release = Optional.of(ReleaseMetadata.parse(bytes, e.path().toString()));
      }
    }

    List<ModelTree.Entry> hashed = speculative;
    ParallelHasher.Job running = job;
    if (running == null) {
      // The disk held more than the bound before ignores; the signed files fit: hash those.
      hashed =
          statement.resources().stream()
              .map(r -> byName.get(r.name()))
              .filter(e -> !e.name().equals(OmsFormat.RELEASE_FILE))
              .toList();
      running = ParallelHasher.start(hashed, options.hashThreads(), options.progress());
    }
    byte[][] digests = running.await();
    for (int i = 0; i < hashed.size(); i++) {
      found.put(hashed.get(i).name(), Hex.encode(digests[i]));
    }
    List<String> mismatches = new ArrayList<>();
    List<SignedFile> files = new ArrayList<>();
    for (Statement.Resource r : statement.resources()) {
      String actual = found.get(r.name());
      if (!r.digestHex().equals(actual)) {
        mismatches.add(
            "Digest mismatch for '"
                + r.name()
                + "': signed sha256:"
                + Hex.abbreviate(r.digestHex())
                + ", found sha256:"
                + Hex.abbreviate(actual)
                + ".");
      }
      files.add(new SignedFile(r.name(), r.digestHex(), byName.get(r.name()).size()));
    }
    if (!mismatches.isEmpty()) {
      throw new TamperedArtifactException(
          String.join(" ", mismatches.subList(0, Math.min(5, mismatches.size())))
              + (mismatches.size() > 5 ? " (" + mismatches.size() + " files differ.)" : "")
              + " The file changed after signing; re-copy the bundle or re-sign it.");
    }
    return new VerifiedBundle(
        layout.root(),
        sigFile,
        statement.subjectName(),
        statement.rootDigestHex(),
        files,
        signers,
        trust,
        release);
  }

  private void requireReleaseThreshold(
      Set<String> signers, SigstoreBundleCodec.Envelope env, String source)
      throws SigningException {
    int threshold = trust.threshold(KeyRole.RELEASE);
    if (signers.size() >= threshold) {
      return;
    }
    String hint = env.keyHint();
    boolean hintTrusted =
        hint != null && trust.keys(KeyRole.RELEASE).stream().anyMatch(k -> k.keyId().equals(hint));
    if (signers.isEmpty() && hintTrusted) {
      throw new TamperedArtifactException(
          source
              + ": the signature does not verify with release key "
              + Hex.abbreviate(hint)
              + ", the key the bundle names and one trusted by "
              + trust.describe()
              + ". The statement or signature changed after signing; re-copy the bundle or"
              + " re-sign it.");
    }
    if (signers.isEmpty()) {
      throw new UntrustedKeyException(
          source
              + ": no signature verifies with a key trusted for role 'release' by "
              + trust.describe()
              + " ("
              + trust.keys(KeyRole.RELEASE).size()
              + " key(s))"
              + (hint == null
                  ? ""
                  : "; the bundle names key " + Hex.abbreviate(hint) + " (an unsigned hint)")
              + ". It was signed by an unknown or revoked key, or changed after signing. Ask a"
              + " release manager to sign it with a trusted key, or update the trust store.");
    }
    List<String> ids = signers.stream().map(Hex::abbreviate).toList();
    throw new UntrustedKeyException(
        source
            + ": signed by "
            + signers.size()
            + " distinct trusted release key(s) "
            + ids
            + ", below the release threshold of "
            + threshold
            + " in "
            + trust.describe()
            + " (rule: each key counts once). Collect signatures from more release managers.");
  }

  /**
   * The unsigned key hint and key details must describe a key that really signed: they never pick
   * the key, but a bundle whose hint was edited is not the bundle that was signed.
   */
  private void requireConsistentKeyMaterial(
      Set<String> signers, SigstoreBundleCodec.Envelope env, String source)
      throws TamperedArtifactException {
    if (env.keyHint() != null && !signers.contains(env.keyHint())) {
      throw new TamperedArtifactException(
          source
              + ": verificationMaterial names key "
              + Hex.abbreviate(env.keyHint())
              + ", but the signature was made by "
              + signers.stream().map(Hex::abbreviate).toList()
              + ". The key hint was changed after signing; re-copy the bundle.");
    }
    if (env.keyDetails() != null) {
      boolean match =
          trust.keys(KeyRole.RELEASE).stream()
              .filter(k -> signers.contains(k.keyId()))
              .anyMatch(k -> SigstoreBundleCodec.keyDetailsFor(k.curve()).equals(env.keyDetails()));
      if (!match) {
        throw new TamperedArtifactException(
            source
                + ": verificationMaterial.publicKey.keyDetails \""
                + env.keyDetails()
                + "\" does not describe the signing key. The bundle was changed after signing;"
                + " re-copy it.");
      }
    }
  }

  private static void compareFileSets(
      Path root, Statement statement, Map<String, ModelTree.Entry> onDisk)
      throws TamperedArtifactException {
    Set<String> listed = new TreeSet<>();
    statement.resources().forEach(r -> listed.add(r.name()));
    Set<String> missing = new TreeSet<>(listed);
    missing.removeAll(onDisk.keySet());
    Set<String> extra = new TreeSet<>(onDisk.keySet());
    extra.removeAll(listed);
    if (!missing.isEmpty()) {
      throw new TamperedArtifactException(
          "Missing signed file(s) in "
              + root
              + ": "
              + firstFew(missing)
              + ". The bundle is incomplete; re-copy it.");
    }
    if (!extra.isEmpty()) {
      throw new TamperedArtifactException(
          "File(s) in "
              + root
              + " not covered by the signature: "
              + firstFew(extra)
              + ". Remove them, or pass them as ignore paths if they are expected.");
    }
  }

  private static String firstFew(Set<String> names) {
    List<String> l = new ArrayList<>(names);
    String shown = String.join(", ", l.subList(0, Math.min(5, l.size())));
    return l.size() > 5 ? shown + " and " + (l.size() - 5) + " more" : shown;
  }

  private static String digestOf(Statement s, String name) {
    return s.resources().stream()
        .filter(r -> r.name().equals(name))
        .findFirst()
        .map(Statement.Resource::digestHex)
        .orElseThrow();
  }

  /** Reads a regular, non-link file of at most {@code max} bytes. */
  static byte[] readBounded(Path file, int max, String what) throws SigningException {
    try {
      BasicFileAttributes a =
          Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (a.isSymbolicLink() || !a.isRegularFile()) {
        throw new TamperedArtifactException(
            file + " (" + what + ") is not a regular file; bundles never contain links.");
      }
      if (a.size() > max) {
        throw new MalformedInputException(
            file
                + " ("
                + what
                + ") has "
                + a.size()
                + " bytes, over the bound of "
                + max
                + ". Refuse it: it is not a genuine "
                + what
                + ".");
      }
      try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
        byte[] bytes = in.readNBytes(max + 1);
        if (bytes.length > max) {
          throw new MalformedInputException(
              file + " (" + what + ") grew beyond the bound of " + max + " bytes while read.");
        }
        return bytes;
      }
    } catch (NoSuchFileException e) {
      if (!what.equals("signature file")) {
        throw new TamperedArtifactException(file + " (" + what + ") vanished while verifying.");
      }
      throw new UntrustedKeyException(
          "No "
              + what
              + " at "
              + file
              + ": the bundle is unsigned. Sign it with 'sign', or copy its model.sig along.");
    } catch (IOException e) {
      throw new SigningIoException("Cannot read " + what + " " + file + ": " + e + ".", e);
    }
  }
}
