package io.edgeslm.fleet;

/**
 * The controller's checked base exception. Subtypes say who must act: the caller ({@link
 * FleetInputException}, {@link FleetNotFoundException}, {@link FleetConflictException}), the
 * bundle's author ({@link BundleRejectedException}), nobody yet ({@link FleetUnavailableException}:
 * retry later) or the operator of this service ({@link FleetStorageException}). Messages name the
 * rule, the value and the next step.
 */
public abstract sealed class FleetException extends Exception
    permits FleetInputException,
        FleetNotFoundException,
        FleetConflictException,
        BundleRejectedException,
        FleetUnavailableException,
        FleetStorageException {

  protected FleetException(String message, Throwable cause) {
    super(message, cause);
  }

  /** A stable, lower-case key for this kind of failure, used as the problem-details type. */
  public abstract String problemKey();
}
