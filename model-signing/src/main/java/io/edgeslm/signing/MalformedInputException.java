package io.edgeslm.signing;

/**
 * Input that breaks the format (JSON, base64, DER, PEM, in-toto, OMS, release metadata, trust root)
 * or exceeds one of the explicit size bounds in {@link BundleLimits}.
 */
public final class MalformedInputException extends SigningException {
  public MalformedInputException(String message) {
    super(message);
  }

  public MalformedInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
