package io.edgeslm.testkit;

/**
 * Base of every checked failure the test kit reports. Subtypes say who must act: {@link
 * GgufFormatException} for a malformed model file, {@link HarnessUnavailableException} for a
 * missing or broken local dependency (broker, database, JVM, binary).
 */
public class TestkitException extends Exception {
  private static final long serialVersionUID = 1L;

  public TestkitException(String message) {
    super(message);
  }

  public TestkitException(String message, Throwable cause) {
    super(message, cause);
  }
}
