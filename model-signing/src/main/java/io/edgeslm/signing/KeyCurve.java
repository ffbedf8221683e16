package io.edgeslm.signing;

import java.util.Locale;

/**
 * The elliptic curves the OMS {@code key} method allows us to sign with. The hash follows the curve
 * (OMS v1.0, Sigstore's PKIX_ECDSA_* key details): P-256 with SHA-256, P-384 with SHA-384. Ed25519
 * is not allowed by the OMS key method; P-521 is accepted by the reference tool but not by our
 * fleet, whose secure elements stop at P-384.
 */
public enum KeyCurve {
  /**
   * NIST P-256 (secp256r1) with SHA-256: the default, what cosign, TPMs and secure elements use.
   */
  P256("P-256", "p256", "1.2.840.10045.3.1.7", "SHA-256"),
  /** NIST P-384 (secp384r1) with SHA-384: what the reference tool's test vectors use. */
  P384("P-384", "p384", "1.3.132.0.34", "SHA-384");

  private final String standardName;
  private final String cliName;
  private final String oid;
  private final String hashAlgorithm;

  KeyCurve(String standardName, String cliName, String oid, String hashAlgorithm) {
    this.standardName = standardName;
    this.cliName = cliName;
    this.oid = oid;
    this.hashAlgorithm = hashAlgorithm;
  }

  /** "P-256" or "P-384" (FIPS 186 names). */
  public String standardName() {
    return standardName;
  }

  /** The ASN.1 object identifier of the named curve, as found in SubjectPublicKeyInfo. */
  public String oid() {
    return oid;
  }

  /** The JCA name of the hash that signatures on this curve use. */
  public String hashAlgorithm() {
    return hashAlgorithm;
  }

  /**
   * Parses "p256", "P-256", "p384" or "P-384".
   *
   * @throws MalformedInputException for any other name, listing the accepted ones
   */
  public static KeyCurve fromName(String name) throws MalformedInputException {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace("-", "");
    for (KeyCurve c : values()) {
      if (c.cliName.equals(n)) {
        return c;
      }
    }
    throw new MalformedInputException(
        "Unsupported curve '"
            + name
            + "': the OMS key method here accepts ECDSA on p256 (P-256) or p384 (P-384). "
            + "Choose one of those.");
  }

  /** The curve whose OID this is, or null. */
  static KeyCurve fromOid(String oid) {
    for (KeyCurve c : values()) {
      if (c.oid.equals(oid)) {
        return c;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return standardName;
  }
}
