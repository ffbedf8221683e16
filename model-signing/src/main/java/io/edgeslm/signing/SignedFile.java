package io.edgeslm.signing;

import java.util.Objects;

/**
 * One signed resource of a bundle.
 *
 * @param name relative POSIX path inside the model directory
 * @param sha256 lowercase hex digest
 * @param size bytes
 */
public record SignedFile(String name, String sha256, long size) {
  public SignedFile {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(sha256, "sha256");
    if (size < 0) {
      throw new IllegalArgumentException("size must be 0 or more, got " + size);
    }
  }
}
