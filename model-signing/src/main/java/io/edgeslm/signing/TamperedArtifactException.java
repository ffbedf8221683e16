package io.edgeslm.signing;

/**
 * The artifact differs from what was signed: a changed, missing or extra file, a file that became a
 * link, or a signature that a trusted key made over different bytes.
 */
public final class TamperedArtifactException extends SigningException {
  public TamperedArtifactException(String message) {
    super(message);
  }

  public TamperedArtifactException(String message, Throwable cause) {
    super(message, cause);
  }
}
