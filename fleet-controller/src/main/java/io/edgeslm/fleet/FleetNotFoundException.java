package io.edgeslm.fleet;

/** The named node, bundle or rollout does not exist. */
public final class FleetNotFoundException extends FleetException {

  public FleetNotFoundException(String message) {
    super(message, null);
  }

  public FleetNotFoundException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public String problemKey() {
    return "not-found";
  }
}
