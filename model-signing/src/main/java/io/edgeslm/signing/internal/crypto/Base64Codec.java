package io.edgeslm.signing.internal.crypto;

import java.util.Base64;
import java.util.Optional;

/**
 * Base64 as DSSE requires it: decoders must accept both the standard and the URL-safe alphabet
 * (DSSE envelope spec, "Base64 encoding"), padded or not. A string that mixes both alphabets or
 * carries whitespace is refused.
 */
public final class Base64Codec {
  private Base64Codec() {}

  public static String encode(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** The decoded bytes, or empty when {@code text} is not base64 in one of the two alphabets. */
  public static Optional<byte[]> decode(String text) {
    boolean urlSafe = text.indexOf('-') >= 0 || text.indexOf('_') >= 0;
    boolean standard = text.indexOf('+') >= 0 || text.indexOf('/') >= 0;
    if (urlSafe && standard) {
      return Optional.empty();
    }
    byte[] bytes;
    try {
      bytes = urlSafe ? Base64.getUrlDecoder().decode(text) : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    // Refuse non-canonical text (stray bits in the last character, odd padding): otherwise two
    // different model.sig files would carry the same signed bytes.
    Base64.Encoder enc = urlSafe ? Base64.getUrlEncoder() : Base64.getEncoder();
    if (!text.endsWith("=")) {
      enc = enc.withoutPadding();
    }
    return enc.encodeToString(bytes).equals(text) ? Optional.of(bytes) : Optional.empty();
  }
}
