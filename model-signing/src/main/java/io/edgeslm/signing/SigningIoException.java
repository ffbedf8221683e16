package io.edgeslm.signing;

import java.io.IOException;

/** The local file system failed while reading or writing keys, bundles or trust roots. */
public final class SigningIoException extends SigningException {
  public SigningIoException(String message, IOException cause) {
    super(message, cause);
  }
}
