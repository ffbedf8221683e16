package io.edgeslm.signing;

/**
 * Base of every checked failure of the model-signing library. Catch a subtype to act on who is at
 * fault:
 *
 * <ul>
 *   <li>{@link TamperedArtifactException}: the bytes on disk are not the bytes that were signed.
 *   <li>{@link UntrustedKeyException}: the bytes may be intact, but no trusted key (or not enough
 *       of them) vouches for them.
 *   <li>{@link PolicyException}: a valid, trusted release that this node must not activate now.
 *   <li>{@link MalformedInputException}: input that breaks the format or a size bound.
 *   <li>{@link SigningIoException}: the local file system failed.
 * </ul>
 *
 * <p>Every message names the file or field, the rule, the values and the next step.
 */
public abstract sealed class SigningException extends Exception
    permits TamperedArtifactException,
        UntrustedKeyException,
        PolicyException,
        MalformedInputException,
        SigningIoException {

  SigningException(String message) {
    super(message);
  }

  SigningException(String message, Throwable cause) {
    super(message, cause);
  }
}
