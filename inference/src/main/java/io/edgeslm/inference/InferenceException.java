package io.edgeslm.inference;

/**
 * Base of every checked failure of the inference library. Subtypes say who must act: {@link
 * ModelLoadException} (the model artifact), {@link EngineUnavailableException} (the engine process
 * or server at run time), {@link InferenceConfigException} (local configuration), {@link
 * RequestRejectedException} (the caller's request), {@link BusyException} (load; retry later),
 * {@link DeadlineExceededException} (the request's own deadline) and {@link
 * ActivationFailedException} (a new model failed its activation check).
 */
public class InferenceException extends Exception {
  private static final long serialVersionUID = 1L;

  public InferenceException(String message) {
    super(message);
  }

  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }
}
