package io.edgeslm.signing;

/**
 * No trusted key vouches for the artifact: it is unsigned, signed by a key outside the trust store
 * (or revoked by omission from it), or signed by fewer distinct trusted keys than the role's
 * threshold.
 */
public final class UntrustedKeyException extends SigningException {
  public UntrustedKeyException(String message) {
    super(message);
  }
}
