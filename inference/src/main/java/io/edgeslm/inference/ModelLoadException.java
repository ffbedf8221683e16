package io.edgeslm.inference;

/**
 * The model artifact could not be loaded: the file is missing, unreadable, not GGUF, or of an
 * architecture the bundled llama.cpp does not know. Replace the model or fix the path.
 */
public class ModelLoadException extends InferenceException {
  private static final long serialVersionUID = 1L;

  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
