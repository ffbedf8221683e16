package io.edgeslm.signing.internal.bundle;

import java.util.List;

/**
 * The parts of an OMS v1.0 in-toto statement this library uses, in the order the signer listed
 * them.
 *
 * @param ignorePaths null when the statement records none (bundles from model_signing v1.0.x)
 */
public record Statement(
    String subjectName,
    String rootDigestHex,
    String method,
    String hashType,
    boolean allowSymlinks,
    List<String> ignorePaths,
    List<Resource> resources) {

  /** One signed file. */
  public record Resource(String name, String algorithm, String digestHex) {}

  public Statement {
    ignorePaths = ignorePaths == null ? null : List.copyOf(ignorePaths);
    resources = List.copyOf(resources);
  }
}
