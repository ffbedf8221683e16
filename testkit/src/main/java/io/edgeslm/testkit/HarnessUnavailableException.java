package io.edgeslm.testkit;

/**
 * A real dependency a test needs (Mosquitto, PostgreSQL, a Docker engine, a child JVM) is missing
 * or failed to start. The message says what to install or start; tests must fail on it, never skip.
 */
public class HarnessUnavailableException extends TestkitException {
  private static final long serialVersionUID = 1L;

  public HarnessUnavailableException(String message) {
    super(message);
  }

  public HarnessUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
