package io.edgeslm.signing;

import io.edgeslm.signing.internal.crypto.Digests;
import io.edgeslm.signing.internal.crypto.Ecdsa;
import io.edgeslm.signing.internal.crypto.Hex;
import io.edgeslm.signing.internal.crypto.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

/**
 * An ECDSA public key (P-256 or P-384) that signatures are checked against.
 *
 * <p>Its {@link #keyId()} is the lowercase hex SHA-256 of its PEM (SubjectPublicKeyInfo) text in
 * canonical form, the same value the reference OMS tool writes as {@code publicKey.hint}. Key ids
 * name keys in messages and trust roots; they never decide trust by themselves.
 */
public final class VerificationKey {
  private final KeyCurve curve;
  private final byte[] spki;
  private final String pem;
  private final String keyId;
  private final ECPublicKeyParameters params;

  private VerificationKey(KeyCurve curve, ECPublicKeyParameters params) {
    this.curve = curve;
    this.params = params;
    try {
      this.spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(params).getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException("cannot DER-encode an EC public key", e);
    }
    this.pem = Pem.encode("PUBLIC KEY", spki);
    this.keyId = Hex.encode(Digests.sha256(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  static VerificationKey of(KeyCurve curve, ECPublicKeyParameters params) {
    return new VerificationKey(curve, params);
  }

  /**
   * Parses a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) block holding a P-256 or P-384 key.
   *
   * @param source names the origin for messages (a file name)
   * @throws MalformedInputException when the text is not such a key, naming what it found
   */
  public static VerificationKey fromPem(String pemText, String source)
      throws MalformedInputException {
    return fromSubjectPublicKeyInfo(Pem.decode(pemText, "PUBLIC KEY", source), source);
  }

  /** Reads {@link #fromPem} from a file. */
  public static VerificationKey read(Path file) throws SigningException {
    return fromPem(readKeyFile(file, "public key"), file.toString());
  }

  /** Parses DER SubjectPublicKeyInfo bytes; see {@link #fromPem}. */
  public static VerificationKey fromSubjectPublicKeyInfo(byte[] der, String source)
      throws MalformedInputException {
    SubjectPublicKeyInfo info;
    try {
      info = SubjectPublicKeyInfo.getInstance(der);
    } catch (RuntimeException e) {
      throw new MalformedInputException(
          source + " does not hold a DER SubjectPublicKeyInfo. Export the public key as PEM.", e);
    }
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(info.getAlgorithm().getAlgorithm())) {
      throw new MalformedInputException(
          source
              + " holds a key of algorithm "
              + info.getAlgorithm().getAlgorithm()
              + ", not an EC key; OMS key signing here uses ECDSA P-256 or P-384. "
              + "Create one with 'keygen --curve p256'.");
    }
    KeyCurve curve = curveOf(info.getAlgorithm().getParameters(), source);
    try {
      AsymmetricKeyParameter p = PublicKeyFactory.createKey(info);
      return new VerificationKey(curve, (ECPublicKeyParameters) p);
    } catch (IOException | RuntimeException e) {
      throw new MalformedInputException(
          source + ": the EC point is not a valid " + curve + " public key. Re-export the key.", e);
    }
  }

  static KeyCurve curveOf(Object algorithmParameters, String source)
      throws MalformedInputException {
    if (!(algorithmParameters instanceof ASN1ObjectIdentifier oid)) {
      throw new MalformedInputException(
          source
              + " uses explicit EC parameters; only named curves P-256 and P-384 are accepted. "
              + "Re-export with named-curve encoding.");
    }
    KeyCurve curve = KeyCurve.fromOid(oid.getId());
    if (curve == null) {
      throw new MalformedInputException(
          source
              + " uses curve OID "
              + oid.getId()
              + "; only P-256 ("
              + KeyCurve.P256.oid()
              + ") and P-384 ("
              + KeyCurve.P384.oid()
              + ") are accepted. Create a key with 'keygen --curve p256'.");
    }
    return curve;
  }

  static String readKeyFile(Path file, String what) throws SigningException {
    try {
      long size = Files.size(file);
      if (size > Pem.MAX_PEM_CHARS) {
        throw new MalformedInputException(
            file
                + " has "
                + size
                + " bytes; a PEM "
                + what
                + " has at most "
                + Pem.MAX_PEM_CHARS
                + ". Point at a PEM key file.");
      }
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new SigningIoException(
          "Cannot read " + what + " " + file + ": " + e + ". Check the path and permissions.", e);
    }
  }

  /**
   * Checks a DER ECDSA signature over {@code message}, hashed with the curve's hash.
   *
   * @throws TamperedArtifactException when the signature does not verify: the message changed, or
   *     another key made it
   */
  public void verify(byte[] message, byte[] derSignature) throws TamperedArtifactException {
    if (!verifies(message, derSignature)) {
      throw new TamperedArtifactException(
          "The "
              + curve
              + " signature does not verify with key "
              + Hex.abbreviate(keyId)
              + ": the signed bytes changed or another key signed them.");
    }
  }

  /** Internal helper shared by the verifiers; public callers use {@link #verify}. */
  boolean verifies(byte[] message, byte[] derSignature) {
    return Ecdsa.verify(params, curve.hashAlgorithm(), message, derSignature);
  }

  public KeyCurve curve() {
    return curve;
  }

  /** Lowercase hex SHA-256 of {@link #toPem()}: the OMS {@code publicKey.hint}. */
  public String keyId() {
    return keyId;
  }

  /** Canonical PEM text (64-column base64, LF line ends). */
  public String toPem() {
    return pem;
  }

  /** DER SubjectPublicKeyInfo (uncompressed point). */
  public byte[] subjectPublicKeyInfo() {
    return spki.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VerificationKey k && Arrays.equals(spki, k.spki);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(spki);
  }

  @Override
  public String toString() {
    return "VerificationKey[" + curve + ", keyid " + Hex.abbreviate(keyId) + "]";
  }
}
