package io.edgeslm.signing.internal.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** JDK message digests: on x86-64 and ARMv8 HotSpot runs SHA-256 on the CPU's SHA instructions. */
public final class Digests {
  private Digests() {}

  public static MessageDigest sha256() {
    return get("SHA-256");
  }

  public static MessageDigest get(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      // Every Java SE runtime must provide SHA-256 and SHA-384 (MessageDigest javadoc).
      throw new IllegalStateException("JDK lacks " + algorithm, e);
    }
  }

  public static byte[] sha256(byte[] data) {
    return sha256().digest(data);
  }
}
