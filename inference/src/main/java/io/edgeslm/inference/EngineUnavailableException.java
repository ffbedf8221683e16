package io.edgeslm.inference;

/**
 * The engine failed at run time: the worker process crashed, hung and was killed, is restarting, or
 * the HTTP server cannot be reached. The request may be retried once the engine reports READY
 * again.
 */
public class EngineUnavailableException extends InferenceException {
  private static final long serialVersionUID = 1L;

  public EngineUnavailableException(String message) {
    super(message);
  }

  public EngineUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
