package io.edgeslm.protocol;

/**
 * A received payload was refused: too large, not UTF-8, not JSON, newer than this reader, or
 * breaking a field rule. {@link #code()} is the matching {@link ErrorCode} for an {@link
 * ErrorReply} and the message is written for the sender.
 */
public final class InvalidPayloadException extends ProtocolException {

  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  public InvalidPayloadException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = java.util.Objects.requireNonNull(code, "code");
  }

  /** Why the payload was refused. */
  public ErrorCode code() {
    return code;
  }

  /** An error reply telling the sender about this refusal. */
  public ErrorReply toReply(String id) {
    String text = getMessage();
    if (text.length() > ErrorReply.MAX_MESSAGE_CHARS) {
      text = text.substring(0, ErrorReply.MAX_MESSAGE_CHARS - 1) + "…";
    }
    return ErrorReply.of(id, code, text);
  }
}
