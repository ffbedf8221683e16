package io.edgeslm.protocol;

/** A topic name does not follow the EdgeSLM scheme {@code edge/v1/{site}/{node}/…}. */
public final class InvalidTopicException extends ProtocolException {

  private static final long serialVersionUID = 1L;

  public InvalidTopicException(String message) {
    super(message, null);
  }
}
