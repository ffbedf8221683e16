package io.edgeslm.signing;

import io.edgeslm.signing.internal.crypto.Ecdsa;
import io.edgeslm.signing.internal.crypto.Hex;
import io.edgeslm.signing.internal.crypto.Pem;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;

/**
 * An ECDSA private key (P-256 or P-384) held by a release manager. Stored as unencrypted PKCS#8 PEM
 * with owner-only permissions; keep it offline. {@link #toString()} never shows the secret.
 */
public final class SigningKey {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private final KeyCurve curve;
  private final ECPrivateKeyParameters secret;
  private final VerificationKey publicKey;

  private SigningKey(KeyCurve curve, ECPrivateKeyParameters secret, ECPublicKeyParameters pub) {
    this.curve = curve;
    this.secret = secret;
    this.publicKey = VerificationKey.of(curve, pub);
  }

  /** A fresh key pair from the platform's SecureRandom. */
  public static SigningKey generate(KeyCurve curve) {
    AsymmetricCipherKeyPair pair = Ecdsa.generate(curve.oid());
    return new SigningKey(
        curve,
        (ECPrivateKeyParameters) pair.getPrivate(),
        (ECPublicKeyParameters) pair.getPublic());
  }

  /**
   * Parses a PEM "PRIVATE KEY" (PKCS#8, unencrypted) block holding a P-256 or P-384 key.
   *
   * @throws MalformedInputException when it is not one, with the conversion command for SEC1 or
   *     encrypted keys
   */
  public static SigningKey fromPem(String pemText, String source) throws MalformedInputException {
    byte[] der = Pem.decode(pemText, "PRIVATE KEY", source);
    PrivateKeyInfo info;
    try {
      info = PrivateKeyInfo.getInstance(der);
    } catch (RuntimeException e) {
      throw new MalformedInputException(
          source + " does not hold a DER PKCS#8 private key. Re-export it as PKCS#8 PEM.", e);
    }
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(info.getPrivateKeyAlgorithm().getAlgorithm())) {
      throw new MalformedInputException(
          source
              + " holds a private key of algorithm "
              + info.getPrivateKeyAlgorithm().getAlgorithm()
              + ", not EC; create an ECDSA key with 'keygen --curve p256'.");
    }
    KeyCurve curve = VerificationKey.curveOf(info.getPrivateKeyAlgorithm().getParameters(), source);
    ECPrivateKeyParameters secret;
    try {
      AsymmetricKeyParameter p = PrivateKeyFactory.createKey(info);
      secret = (ECPrivateKeyParameters) p;
    } catch (IOException | RuntimeException e) {
      throw new MalformedInputException(
          source + ": not a valid " + curve + " private key. Re-export the key.", e);
    }
    ECPoint q =
        new FixedPointCombMultiplier()
            .multiply(secret.getParameters().getG(), secret.getD())
            .normalize();
    ECPrivateKeyParameters named =
        new ECPrivateKeyParameters(secret.getD(), Ecdsa.domain(curve.oid()));
    return new SigningKey(curve, named, new ECPublicKeyParameters(q, Ecdsa.domain(curve.oid())));
  }

  /** Reads {@link #fromPem} from a file. */
  public static SigningKey read(Path file) throws SigningException {
    return fromPem(VerificationKey.readKeyFile(file, "private key"), file.toString());
  }

  /** DER ECDSA signature over {@code hash(message)} with the curve's hash (RFC 6979 nonce). */
  public byte[] sign(byte[] message) {
    return Ecdsa.sign(secret, curve.hashAlgorithm(), message);
  }

  public KeyCurve curve() {
    return curve;
  }

  public VerificationKey verificationKey() {
    return publicKey;
  }

  /** Unencrypted PKCS#8 PEM. Handle with care. */
  public String toPem() {
    try {
      return Pem.encode(
          "PRIVATE KEY", PrivateKeyInfoFactory.createPrivateKeyInfo(secret).getEncoded("DER"));
    } catch (IOException e) {
      throw new IllegalStateException("cannot DER-encode an EC private key", e);
    }
  }

  /**
   * Writes {@link #toPem()} to a new file that only its owner may read and write (mode 0600 from
   * creation on, so the secret is never briefly world-readable).
   *
   * @throws SigningIoException if the file exists (never overwritten) or cannot be written
   */
  public void writePrivateKey(Path file) throws SigningIoException {
    try {
      try {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system (Windows): the file inherits the directory's ACL.
        Files.createFile(file);
      }
      try (Writer w =
          Files.newBufferedWriter(
              file, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING)) {
        w.write(toPem());
      }
    } catch (FileAlreadyExistsException e) {
      throw new SigningIoException(
          "Refusing to overwrite " + file + ": it exists. Move it away or choose another path.", e);
    } catch (IOException e) {
      throw new SigningIoException("Cannot write private key " + file + ": " + e, e);
    }
  }

  /** Writes the public key PEM to a new file (never overwrites). */
  public void writePublicKey(Path file) throws SigningIoException {
    try {
      Files.writeString(
          file, publicKey.toPem(), StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW);
    } catch (FileAlreadyExistsException e) {
      throw new SigningIoException(
          "Refusing to overwrite " + file + ": it exists. Move it away or choose another path.", e);
    } catch (IOException e) {
      throw new SigningIoException("Cannot write public key " + file + ": " + e, e);
    }
  }

  @Override
  public String toString() {
    return "SigningKey[" + curve + ", keyid " + Hex.abbreviate(publicKey.keyId()) + "]";
  }
}
