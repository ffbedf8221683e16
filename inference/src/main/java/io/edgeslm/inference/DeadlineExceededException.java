package io.edgeslm.inference;

/**
 * The request's deadline passed, either while it waited in the queue or while it was generating
 * (generation was cancelled). {@link #generatedTokens()} says how far it got.
 */
public final class DeadlineExceededException extends InferenceException {
  private static final long serialVersionUID = 1L;
  private final int generatedTokens;

  public DeadlineExceededException(String message, int generatedTokens) {
    super(message);
    this.generatedTokens = generatedTokens;
  }

  /** Tokens generated before the deadline cancelled the request; 0 if it never started. */
  public int generatedTokens() {
    return generatedTokens;
  }
}
