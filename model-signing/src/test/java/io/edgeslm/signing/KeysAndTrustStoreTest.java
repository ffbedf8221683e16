package io.edgeslm.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysAndTrustStoreTest {
  @TempDir Path tmp;

  @Test
  void writePrivateKey_isOwnerOnly_andRoundTripsThroughPem() throws Exception {
    for (KeyCurve curve : KeyCurve.values()) {
      SigningKey key = SigningKey.generate(curve);
      Path priv = tmp.resolve(curve + ".pem");
      Path pub = tmp.resolve(curve + ".pub");
      key.writePrivateKey(priv);
      key.writePublicKey(pub);

      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)))
          .isEqualTo("rw-------");
      SigningKey back = SigningKey.read(priv);
      assertThat(back.verificationKey()).isEqualTo(key.verificationKey());
      assertThat(VerificationKey.read(pub)).isEqualTo(key.verificationKey());
      assertThat(Files.readString(pub)).isEqualTo(key.verificationKey().toPem());
      byte[] msg = "hello".getBytes();
      back.verificationKey().verify(msg, key.sign(msg));
      assertThatThrownBy(() -> key.writePrivateKey(priv))
          .isInstanceOf(SigningIoException.class)
          .hasMessage(
              "Refusing to overwrite "
                  + priv
                  + ": it exists. Move it away or choose another path.");
    }
  }

  @Test
  void readKeys_wrongKindOrCurve_failsWithNextStep() throws Exception {
    SigningKey key = SigningKey.generate(KeyCurve.P256);
    assertThatThrownBy(() -> VerificationKey.fromPem(key.toPem(), "k.pem"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessage(
            "k.pem is not a PEM file with exactly one 'PUBLIC KEY' block (found 'PRIVATE KEY')."
                + " This is a private key; pass the public key (keygen writes both).");
    assertThatThrownBy(
            () ->
                SigningKey.fromPem(
                    "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
                    "s.pem"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageEndingWith(
            "Convert the SEC1 key to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8");
    // secp256k1 (OID 1.3.132.0.10) is a valid EC key, but not a curve OMS signing here accepts.
    String k1 =
        "-----BEGIN PUBLIC KEY-----\n"
            + "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEBYtSu+VvGGlm6ShW+rA3/qzX6bnDl4dh\n"
            + "9qYw5GY5eKZ+nD2RzrgyePBMwz/BGH2nLQGQhOFXHsjOI8KZw1kwgg==\n"
            + "-----END PUBLIC KEY-----\n";
    assertThatThrownBy(() -> VerificationKey.fromPem(k1, "k1.pub"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("uses curve OID 1.3.132.0.10; only P-256");
    assertThatThrownBy(() -> KeyCurve.fromName("ed25519"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessage(
            "Unsupported curve 'ed25519': the OMS key method here accepts ECDSA on p256 (P-256) or"
                + " p384 (P-384). Choose one of those.");
  }

  @Test
  void trustRoot_writeLoadRotate_andThresholdBundleVerification() throws Exception {
    SigningKey root = SigningKey.generate(KeyCurve.P384);
    SigningKey a = SigningKey.generate(KeyCurve.P256);
    SigningKey b = SigningKey.generate(KeyCurve.P256);
    byte[] signed =
        TrustStore.signRoot(
            TrustRoot.of(1, List.of(root.verificationKey()), 1, List.of(a.verificationKey()), 1),
            List.of(root));
    Path file = Files.write(tmp.resolve("root.1.json"), signed);
    TrustStore v1 = TrustStore.load(file);
    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1.describe()).isEqualTo("trust root version 1");

    Path model = TestBundles.model(tmp, "m", null);
    BundleSigner.of(b).sign(model, BundleOptions.defaults());
    assertThatThrownBy(() -> BundleVerifier.of(v1).verify(model, BundleOptions.defaults()))
        .isInstanceOf(UntrustedKeyException.class);

    Path next =
        Files.write(
            tmp.resolve("root.2.json"),
            TrustStore.signRoot(
                TrustRoot.of(
                    2, List.of(root.verificationKey()), 1, List.of(b.verificationKey()), 1),
                List.of(root)));
    TrustStore v2 = v1.rotateAll(List.of(next));
    assertThat(BundleVerifier.of(v2).verify(model, BundleOptions.defaults()).signerKeyIds())
        .containsExactly(b.verificationKey().keyId());
    // Revoked by omission: a's bundles no longer verify under root 2.
    BundleSigner.of(a).sign(model, BundleOptions.defaults());
    assertThatThrownBy(() -> BundleVerifier.of(v2).verify(model, BundleOptions.defaults()))
        .isInstanceOf(UntrustedKeyException.class);
    // Pinned keys cannot be rotated.
    assertThatThrownBy(
            () ->
                TrustStore.pinned(List.of(a.verificationKey()))
                    .rotate(Files.readAllBytes(next), "n"))
        .isInstanceOf(UntrustedKeyException.class);
  }

  @Test
  void trustRoot_tamperedPayload_rejected() throws Exception {
    SigningKey root = SigningKey.generate(KeyCurve.P256);
    SigningKey evil = SigningKey.generate(KeyCurve.P256);
    String signed =
        new String(
            TrustStore.signRoot(
                TrustRoot.of(
                    1, List.of(root.verificationKey()), 1, List.of(root.verificationKey()), 1),
                List.of(root)));
    // Swap in a payload that trusts another release key, keeping the old signature.
    String payload = signed.replaceAll("(?s).*\"payload\" : \"([^\"]+)\".*", "$1");
    String other =
        new String(
            TrustStore.signRoot(
                TrustRoot.of(
                    1, List.of(root.verificationKey()), 1, List.of(evil.verificationKey()), 1),
                List.of(evil)));
    String otherPayload = other.replaceAll("(?s).*\"payload\" : \"([^\"]+)\".*", "$1");
    assertThatThrownBy(
            () -> TrustStore.fromSignedRoot(signed.replace(payload, otherPayload).getBytes(), "t"))
        .isInstanceOf(UntrustedKeyException.class);
  }
}
