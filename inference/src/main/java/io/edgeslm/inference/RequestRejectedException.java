package io.edgeslm.inference;

/**
 * The request itself was refused before generation: it breaks a bound (context budget, n_predict,
 * size) that retrying cannot fix. Shorten or change the request.
 */
public class RequestRejectedException extends InferenceException {
  private static final long serialVersionUID = 1L;

  public RequestRejectedException(String message) {
    super(message);
  }

  public RequestRejectedException(String message, Throwable cause) {
    super(message, cause);
  }
}
