package io.edgeslm.signing;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A bundle whose signature, signer trust and every file digest have been verified. Only files in
 * {@link #files()} may be loaded from the directory.
 *
 * @param directory the model directory (real path)
 * @param signatureFile the verified {@code model.sig}
 * @param subjectName the statement's subject name (the directory name at signing time)
 * @param rootDigest the statement's subject digest
 * @param files signed resources in the order the statement lists them
 * @param signerKeyIds distinct trusted release keys whose signatures verified
 * @param trust the trust store the bundle was verified against
 * @param release the signed {@code release.json}, when the bundle has one
 */
public record VerifiedBundle(
    Path directory,
    Path signatureFile,
    String subjectName,
    String rootDigest,
    List<SignedFile> files,
    Set<String> signerKeyIds,
    TrustStore trust,
    Optional<ReleaseMetadata> release) {

  public VerifiedBundle {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(trust, "trust");
    files = List.copyOf(files);
    signerKeyIds = Set.copyOf(signerKeyIds);
    release = Objects.requireNonNullElse(release, Optional.empty());
  }

  public long totalBytes() {
    return files.stream().mapToLong(SignedFile::size).sum();
  }

  /** The signed resource with this name. */
  public Optional<SignedFile> file(String name) {
    return files.stream().filter(f -> f.name().equals(name)).findFirst();
  }
}
