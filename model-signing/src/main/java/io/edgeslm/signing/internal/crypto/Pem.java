package io.edgeslm.signing.internal.crypto;

import io.edgeslm.signing.MalformedInputException;
import java.util.Base64;

/**
 * PEM text (RFC 7468, strict form): one block, base64 body in 64-character lines, LF line ends. The
 * key id of a public key is the SHA-256 of exactly this text, as the reference OMS tool computes
 * its key hint, so the encoder must stay byte-for-byte stable.
 */
public final class Pem {
  /** Key files are a few hundred bytes; anything near this bound is not a key. */
  public static final int MAX_PEM_CHARS = 16 * 1024;

  private Pem() {}

  public static String encode(String label, byte[] der) {
    String body = Base64.getEncoder().encodeToString(der);
    StringBuilder sb = new StringBuilder(body.length() + 80);
    sb.append("-----BEGIN ").append(label).append("-----\n");
    for (int i = 0; i < body.length(); i += 64) {
      sb.append(body, i, Math.min(body.length(), i + 64)).append('\n');
    }
    sb.append("-----END ").append(label).append("-----\n");
    return sb.toString();
  }

  /**
   * The DER bytes of the single {@code label} block in {@code text}.
   *
   * @param source names the file for messages
   */
  public static byte[] decode(String text, String label, String source)
      throws MalformedInputException {
    if (text.length() > MAX_PEM_CHARS) {
      throw new MalformedInputException(
          source
              + " has "
              + text.length()
              + " characters; a PEM key has at most "
              + MAX_PEM_CHARS
              + ". Point at a PEM key file.");
    }
    String begin = "-----BEGIN " + label + "-----";
    String end = "-----END " + label + "-----";
    int b = text.indexOf(begin);
    int e = text.indexOf(end);
    if (b < 0 || e < b || text.indexOf(begin, b + 1) >= 0) {
      String found = firstLabel(text);
      throw new MalformedInputException(
          source
              + " is not a PEM file with exactly one '"
              + label
              + "' block"
              + (found == null ? "" : " (found '" + found + "')")
              + ". "
              + hint(label, found));
    }
    String body = text.substring(b + begin.length(), e).replaceAll("[\\r\\n\\t ]", "");
    try {
      return Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException ex) {
      throw new MalformedInputException(
          source + ": the '" + label + "' block is not valid base64. Re-export the key.", ex);
    }
  }

  private static String firstLabel(String text) {
    int i = text.indexOf("-----BEGIN ");
    if (i < 0) {
      return null;
    }
    int j = text.indexOf("-----", i + 11);
    return j < 0 ? null : text.substring(i + 11, j);
  }

  private static String hint(String wanted, String found) {
    if ("PRIVATE KEY".equals(wanted) && "EC PRIVATE KEY".equals(found)) {
      return "Convert the SEC1 key to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8";
    }
    if ("PRIVATE KEY".equals(wanted) && "ENCRYPTED PRIVATE KEY".equals(found)) {
      return "Decrypt it first: openssl pkcs8 -in KEY -out KEY.p8 (keep the result owner-only).";
    }
    if ("PUBLIC KEY".equals(wanted) && found != null && found.contains("PRIVATE")) {
      return "This is a private key; pass the public key (keygen writes both).";
    }
    return "Generate keys with 'keygen' or openssl genpkey -algorithm EC.";
  }
}
