package io.edgeslm.signing;

import io.edgeslm.signing.internal.bundle.Layout;
import io.edgeslm.signing.internal.bundle.ModelTree;
import io.edgeslm.signing.internal.bundle.OmsFormat;
import io.edgeslm.signing.internal.bundle.ParallelHasher;
import io.edgeslm.signing.internal.bundle.SigstoreBundleCodec;
import io.edgeslm.signing.internal.bundle.Statement;
import io.edgeslm.signing.internal.bundle.StatementCodec;
import io.edgeslm.signing.internal.crypto.Dsse;
import io.edgeslm.signing.internal.crypto.Hex;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Signs a model directory as an OpenSSF Model Signing v1.0 bundle, {@code key} method: every
 * regular file is hashed (SHA-256, streaming, in parallel), listed in an in-toto statement in name
 * order, and the statement is signed over its DSSE PAE by each signing key. The Sigstore bundle is
 * written atomically to {@code model.sig}.
 *
 * <p>Links, devices and names that break {@link BundleLimits} are refused. A {@code release.json}
 * in the directory must parse as {@link ReleaseMetadata} and name files that are being signed.
 */
public final class BundleSigner {
  private final List<SigningKey> keys;

  private BundleSigner(List<SigningKey> keys) {
    this.keys = List.copyOf(keys);
  }

  /** A signer with one key, the usual case. */
  public static BundleSigner of(SigningKey key) {
    return new BundleSigner(List.of(key));
  }

  /**
   * A signer whose bundles carry one signature per distinct key, for trust stores whose release
   * threshold is above 1.
   */
  public static BundleSigner of(List<SigningKey> keys) {
    Map<String, SigningKey> distinct = new LinkedHashMap<>();
    keys.forEach(k -> distinct.putIfAbsent(k.verificationKey().keyId(), k));
    if (distinct.isEmpty()) {
      throw new IllegalArgumentException("sign with at least one key");
    }
    return new BundleSigner(List.copyOf(distinct.values()));
  }

  /**
   * Signs {@code modelDir} and writes the signature file.
   *
   * @return what was signed
   * @throws MalformedInputException for links, special files, bad names, bounds, an invalid
   *     release.json, or an empty directory
   * @throws SigningIoException when files cannot be read or the signature cannot be written
   */
  public SignedBundle sign(Path modelDir, BundleOptions options) throws SigningException {
    Layout layout = Layout.resolve(modelDir, options);
    BundleLimits limits = options.limits();
    List<ModelTree.Entry> entries =
        ModelTree.scan(layout.root(), layout.ignoreSet(null), limits, ModelTree.Mode.SIGN);
    if (entries.isEmpty()) {
      throw new MalformedInputException(
          layout.root()
              + " holds no files to sign (after ignoring "
              + layout.ignoreSet(null)
              + "). Point at the model directory.");
    }
    long total = entries.stream().mapToLong(ModelTree.Entry::size).sum();
    if (total > limits.maxTotalBytes()) {
      throw new MalformedInputException(
          layout.root()
              + " holds "
              + total
              + " bytes, over the bound of "
              + limits.maxTotalBytes()
              + " (rule: bounded total size). Remove files or raise the limit.");
    }
    checkRelease(layout, entries, limits);
    byte[][] digests = ParallelHasher.hash(entries, options.hashThreads(), options.progress());
    List<Statement.Resource> resources = new ArrayList<>();
    List<SignedFile> files = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      String hex = Hex.encode(digests[i]);
      resources.add(new Statement.Resource(entries.get(i).name(), OmsFormat.HASH_SHA256, hex));
      files.add(new SignedFile(entries.get(i).name(), hex, entries.get(i).size()));
    }
    String root = Hex.encode(StatementCodec.rootDigest(resources));
    List<String> recordedIgnores = new ArrayList<>(layout.ignoreSet(null));
    Path name = layout.root().getFileName();
    Statement statement =
        new Statement(
            name == null ? "model" : name.toString(),
            root,
            OmsFormat.METHOD_FILES,
            OmsFormat.HASH_SHA256,
            false,
            recordedIgnores,
            resources);
    byte[] payload = StatementCodec.write(statement);
    byte[] pae = Dsse.pae(OmsFormat.PAYLOAD_TYPE, payload);
    List<byte[]> signatures = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (SigningKey k : keys) {
      signatures.add(k.sign(pae));
      ids.add(k.verificationKey().keyId());
    }
    byte[] bundle = SigstoreBundleCodec.write(payload, signatures, ids.get(0));
    writeAtomically(layout.signatureFile(), bundle);
    return new SignedBundle(layout.signatureFile(), root, files, ids);
  }

  private static void checkRelease(
      Layout layout, List<ModelTree.Entry> entries, BundleLimits limits) throws SigningException {
    Optional<ModelTree.Entry> release =
        entries.stream().filter(e -> e.name().equals(OmsFormat.RELEASE_FILE)).findFirst();
    if (release.isEmpty()) {
      return;
    }
    if (release.get().size() > limits.maxReleaseBytes()) {
      throw new MalformedInputException(
          OmsFormat.RELEASE_FILE
              + " has "
              + release.get().size()
              + " bytes, over the bound of "
              + limits.maxReleaseBytes()
              + ". Move large task data into its own signed file.");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(release.get().path());
    } catch (IOException e) {
      throw new SigningIoException("Cannot read " + release.get().path() + ": " + e, e);
    }
    ReleaseMetadata meta = ReleaseMetadata.parse(bytes, release.get().path().toString());
    List<String> names = entries.stream().map(ModelTree.Entry::name).toList();
    List<String> wanted = new ArrayList<>();
    wanted.add(meta.modelFile());
    meta.evaluationFile().ifPresent(wanted::add);
    for (String w : wanted) {
      if (!names.contains(w)) {
        throw new MalformedInputException(
            OmsFormat.RELEASE_FILE
                + " names '"
                + w
                + "', which is not a file being signed in "
                + layout.root()
                + ". Add the file or fix release.json.");
      }
    }
  }

  private static void writeAtomically(Path target, byte[] bytes) throws SigningIoException {
    Path dir = target.getParent();
    try {
      Path tmp = Files.createTempFile(dir, ".model-sig-", ".tmp");
      try {
        Files.write(tmp, bytes);
        try {
          Files.move(
              tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new SigningIoException(
          "Cannot write signature file " + target + ": " + e + ". Check the folder is writable.",
          e);
    }
  }
}
