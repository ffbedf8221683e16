package io.edgeslm.signing.internal.crypto;

import java.io.IOException;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;

/**
 * ECDSA through Bouncy Castle's lightweight API (no JCA provider to register, which keeps CLI start
 * fast). Signatures are deterministic (RFC 6979), so signing never depends on the quality of a
 * gateway's random source; verifiers cannot tell the difference.
 */
public final class Ecdsa {
  private Ecdsa() {}

  /** Named domain parameters, so that PKCS#8 and SPKI encodings carry the curve OID. */
  public static ECNamedDomainParameters domain(String curveOid) {
    ASN1ObjectIdentifier oid = new ASN1ObjectIdentifier(curveOid);
    X9ECParameters x9 = ECNamedCurveTable.getByOID(oid);
    return new ECNamedDomainParameters(oid, x9);
  }

  public static AsymmetricCipherKeyPair generate(String curveOid) {
    ECKeyPairGenerator gen = new ECKeyPairGenerator();
    gen.init(new ECKeyGenerationParameters(domain(curveOid), new SecureRandom()));
    return gen.generateKeyPair();
  }

  /** DER ECDSA signature over {@code hash(message)}, with the hash that belongs to the curve. */
  public static byte[] sign(ECPrivateKeyParameters key, String hashAlgorithm, byte[] message) {
    byte[] hash = Digests.get(hashAlgorithm).digest(message);
    ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(bcDigest(hashAlgorithm)));
    signer.init(true, key);
    BigInteger[] rs = signer.generateSignature(hash);
    BigInteger n = key.getParameters().getN();
    try {
      return StandardDSAEncoding.INSTANCE.encode(n, rs[0], rs[1]);
    } catch (IOException e) {
      throw new IllegalStateException("DER encoding of an ECDSA signature failed", e);
    }
  }

  /**
   * The (r, s) pair of a DER {@code ECDSA-Sig-Value} (RFC 5480 section 2.2 / SEC 1), or empty if
   * the bytes are not exactly one canonical DER SEQUENCE of two positive INTEGERs.
   */
  public static Optional<BigInteger[]> parseDer(byte[] der) {
    try {
      ASN1Primitive p = ASN1Primitive.fromByteArray(der);
      if (!(p instanceof ASN1Sequence seq) || seq.size() != 2) {
        return Optional.empty();
      }
      if (!(seq.getObjectAt(0) instanceof ASN1Integer r)
          || !(seq.getObjectAt(1) instanceof ASN1Integer s)) {
        return Optional.empty();
      }
      if (!Arrays.equals(seq.getEncoded(ASN1Encoding.DER), der)) {
        return Optional.empty();
      }
      BigInteger rv = r.getPositiveValue();
      BigInteger sv = s.getPositiveValue();
      if (r.getValue().signum() <= 0 || s.getValue().signum() <= 0) {
        return Optional.empty();
      }
      return Optional.of(new BigInteger[] {rv, sv});
    } catch (IOException | IllegalArgumentException | IllegalStateException e) {
      return Optional.empty();
    }
  }

  /** True when {@code der} is a valid signature by {@code key} over {@code hash(message)}. */
  public static boolean verify(
      ECPublicKeyParameters key, String hashAlgorithm, byte[] message, byte[] der) {
    Optional<BigInteger[]> rs = parseDer(der);
    if (rs.isEmpty()) {
      return false;
    }
    BigInteger n = key.getParameters().getN();
    BigInteger r = rs.get()[0];
    BigInteger s = rs.get()[1];
    if (r.compareTo(n) >= 0 || s.compareTo(n) >= 0) {
      return false;
    }
    byte[] hash = Digests.get(hashAlgorithm).digest(message);
    ECDSASigner verifier = new ECDSASigner();
    verifier.init(false, key);
    return verifier.verifySignature(hash, r, s);
  }

  private static Digest bcDigest(String hashAlgorithm) {
    return switch (hashAlgorithm) {
      case "SHA-256" -> new SHA256Digest();
      case "SHA-384" -> new SHA384Digest();
      default -> throw new IllegalArgumentException("no ECDSA nonce digest for " + hashAlgorithm);
    };
  }
}
