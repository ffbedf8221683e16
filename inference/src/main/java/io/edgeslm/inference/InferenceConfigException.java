package io.edgeslm.inference;

/**
 * Local configuration is wrong (a bound out of range, a missing Java executable, an unwritable work
 * directory). Fix the configuration; retrying does not help.
 */
public class InferenceConfigException extends InferenceException {
  private static final long serialVersionUID = 1L;

  public InferenceConfigException(String message) {
    super(message);
  }

  public InferenceConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
