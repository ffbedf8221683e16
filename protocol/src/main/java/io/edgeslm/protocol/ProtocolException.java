package io.edgeslm.protocol;

/**
 * Base of the checked exceptions of the protocol library. Subtypes say whose fault it is: {@link
 * InvalidPayloadException} (the sender's payload) and {@link InvalidTopicException} (a topic that
 * does not follow the EdgeSLM scheme).
 */
public abstract sealed class ProtocolException extends Exception
    permits InvalidPayloadException, InvalidTopicException {

  private static final long serialVersionUID = 1L;

  protected ProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
