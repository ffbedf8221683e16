package io.edgeslm.signing;

/**
 * Explicit bounds on everything untrusted a verifier reads. Defaults suit 1B–3B GGUF bundles with a
 * handful of side files; a fleet can tighten them.
 *
 * @param maxSignatureFileBytes size of {@code model.sig} (the statement is inside it, base64)
 * @param maxFiles signed resources and files found on disk
 * @param maxNameLength characters in one resource name (relative POSIX path)
 * @param maxTotalBytes sum of the sizes of all signed files
 * @param maxReleaseBytes size of {@code release.json}
 * @param maxSignatures signatures in one DSSE envelope or trust root
 */
public record BundleLimits(
    int maxSignatureFileBytes,
    int maxFiles,
    int maxNameLength,
    long maxTotalBytes,
    int maxReleaseBytes,
    int maxSignatures) {

  /** 4 MiB: 10,000 resources of about 200 bytes each, base64-encoded, still fit. */
  public static final int DEFAULT_MAX_SIGNATURE_FILE_BYTES = 4 * 1024 * 1024;

  public static final int DEFAULT_MAX_FILES = 10_000;

  /** Characters of a whole name; each path segment is also held to 255 (common file systems). */
  public static final int DEFAULT_MAX_NAME_LENGTH = 1024;

  public static final int MAX_SEGMENT_LENGTH = 255;

  /** Directory nesting below the model directory. */
  public static final int MAX_DEPTH = 32;

  /** 64 GiB: far above a 4-bit 3B model, far below what fills a gateway's disk by surprise. */
  public static final long DEFAULT_MAX_TOTAL_BYTES = 64L * 1024 * 1024 * 1024;

  public static final int DEFAULT_MAX_RELEASE_BYTES = 256 * 1024;

  public static final int DEFAULT_MAX_SIGNATURES = 16;

  public BundleLimits {
    positive("maxSignatureFileBytes", maxSignatureFileBytes);
    positive("maxFiles", maxFiles);
    positive("maxNameLength", maxNameLength);
    positive("maxTotalBytes", maxTotalBytes);
    positive("maxReleaseBytes", maxReleaseBytes);
    positive("maxSignatures", maxSignatures);
  }

  public static BundleLimits defaults() {
    return new BundleLimits(
        DEFAULT_MAX_SIGNATURE_FILE_BYTES,
        DEFAULT_MAX_FILES,
        DEFAULT_MAX_NAME_LENGTH,
        DEFAULT_MAX_TOTAL_BYTES,
        DEFAULT_MAX_RELEASE_BYTES,
        DEFAULT_MAX_SIGNATURES);
  }

  private static void positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }
}
