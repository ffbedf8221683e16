package io.edgeslm.fleet;

/** The request breaks a documented rule (a field out of range, an unknown selector key). */
public final class FleetInputException extends FleetException {

  public FleetInputException(String message) {
    super(message, null);
  }

  public FleetInputException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public String problemKey() {
    return "invalid-request";
  }
}
