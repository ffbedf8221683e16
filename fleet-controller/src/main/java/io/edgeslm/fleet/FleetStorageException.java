package io.edgeslm.fleet;

/** The controller's own database or bundle store failed; the operator of this service must act. */
public final class FleetStorageException extends FleetException {

  public FleetStorageException(String message) {
    super(message, null);
  }

  public FleetStorageException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public String problemKey() {
    return "storage";
  }
}
