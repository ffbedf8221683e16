package io.edgeslm.signing;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * How to sign or verify a model directory.
 *
 * @param signatureFile where {@code model.sig} lives; null means {@code MODEL_DIR/model.sig}
 * @param ignorePaths names relative to the model directory (files or whole folders) that are
 *     neither signed nor reported as extra; the signature file and {@code .git*} are always ignored
 * @param limits bounds on untrusted input
 * @param progress hashing progress receiver
 * @param hashThreads maximum files hashed at once
 */
public record BundleOptions(
    Path signatureFile,
    List<String> ignorePaths,
    BundleLimits limits,
    HashProgress progress,
    int hashThreads) {

  public BundleOptions {
    ignorePaths = List.copyOf(ignorePaths);
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(progress, "progress");
    if (hashThreads < 1) {
      throw new IllegalArgumentException("hashThreads must be at least 1, got " + hashThreads);
    }
  }

  /** Default signature file, no extra ignores, default limits, one thread per core. */
  public static BundleOptions defaults() {
    return new BundleOptions(
        null,
        List.of(),
        BundleLimits.defaults(),
        HashProgress.NONE,
        Runtime.getRuntime().availableProcessors());
  }

  public BundleOptions withSignatureFile(Path file) {
    return new BundleOptions(file, ignorePaths, limits, progress, hashThreads);
  }

  public BundleOptions withIgnorePaths(List<String> paths) {
    return new BundleOptions(signatureFile, paths, limits, progress, hashThreads);
  }

  public BundleOptions withLimits(BundleLimits l) {
    return new BundleOptions(signatureFile, ignorePaths, l, progress, hashThreads);
  }

  public BundleOptions withProgress(HashProgress p) {
    return new BundleOptions(signatureFile, ignorePaths, limits, p, hashThreads);
  }

  public BundleOptions withHashThreads(int n) {
    return new BundleOptions(signatureFile, ignorePaths, limits, progress, n);
  }
}
