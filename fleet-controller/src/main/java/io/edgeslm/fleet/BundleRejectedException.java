package io.edgeslm.fleet;

/**
 * An uploaded bundle failed verification against the configured trust store: unsigned, tampered,
 * signed by an unknown key, or malformed.
 */
public final class BundleRejectedException extends FleetException {

  public BundleRejectedException(String message) {
    super(message, null);
  }

  public BundleRejectedException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public String problemKey() {
    return "bundle-rejected";
  }
}
