package io.edgeslm.inference;

/**
 * Receives generated text as it streams. Called on one engine delivery thread in order, never
 * concurrently for one request; it must return quickly (hand work to another thread if it must
 * block), since it delays the other requests' tokens.
 */
@FunctionalInterface
public interface TokenListener {
  /** Ignores every token. */
  TokenListener NONE = piece -> {};

  /** One piece of generated text (usually one token; may be empty). */
  void onToken(String piece);
}
