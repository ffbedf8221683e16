package io.edgeslm.signing.internal.crypto;

import java.util.HexFormat;

/** Lowercase hex, as OMS digests and key hints are written. */
public final class Hex {
  private static final HexFormat LOWER = HexFormat.of();

  private Hex() {}

  public static String encode(byte[] bytes) {
    return LOWER.formatHex(bytes);
  }

  /** True for exactly {@code 2 * byteLength} lowercase hex digits. */
  public static boolean isLowerHex(String text, int byteLength) {
    if (text.length() != 2 * byteLength) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /** Decodes text already checked with {@link #isLowerHex}. */
  public static byte[] decode(String text) {
    return LOWER.parseHex(text);
  }

  /** The first 12 hex digits and an ellipsis, for messages. */
  public static String abbreviate(String hex) {
    return hex.length() <= 12 ? hex : hex.substring(0, 12) + "…";
  }
}
