package io.edgeslm.testkit;

/** A GGUF file (or a shape asked of the writer) breaks a rule of the format or of llama.cpp. */
public class GgufFormatException extends TestkitException {
  private static final long serialVersionUID = 1L;

  public GgufFormatException(String message) {
    super(message);
  }

  public GgufFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
