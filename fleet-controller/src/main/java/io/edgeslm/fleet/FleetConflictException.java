package io.edgeslm.fleet;

/**
 * The request is valid but the current state forbids it (pausing a finished rollout, deleting a
 * bundle in use).
 */
public final class FleetConflictException extends FleetException {

  public FleetConflictException(String message) {
    super(message, null);
  }

  public FleetConflictException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public String problemKey() {
    return "conflict";
  }
}
