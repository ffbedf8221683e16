package io.edgeslm.signing;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link BundleSigner#sign} wrote.
 *
 * @param signatureFile the new {@code model.sig}
 * @param rootDigest SHA-256 over the resource digests in order (the statement's subject digest)
 * @param files the signed resources, sorted by name
 * @param signerKeyIds the keys that signed
 */
public record SignedBundle(
    Path signatureFile, String rootDigest, List<SignedFile> files, List<String> signerKeyIds) {
  public SignedBundle {
    files = List.copyOf(files);
    signerKeyIds = List.copyOf(signerKeyIds);
  }

  public long totalBytes() {
    return files.stream().mapToLong(SignedFile::size).sum();
  }
}
