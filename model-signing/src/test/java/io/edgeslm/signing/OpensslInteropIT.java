package io.edgeslm.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.signing.internal.crypto.Dsse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Round trip with the OpenSSL 3 command line: our signatures over a DSSE PAE verify with {@code
 * openssl dgst -verify}, and OpenSSL's DER signatures and keys work here. Needs the {@code openssl}
 * binary (apt-get install openssl).
 */
class OpensslInteropIT {
  @TempDir Path tmp;

  @BeforeAll
  static void opensslIsInstalled() throws Exception {
    Processes.Output v = Processes.openssl(Path.of("."), "version");
    assertThat(v.code()).as("openssl version: " + v.out()).isZero();
    assertThat(v.out()).as("OpenSSL 3 is required, found: " + v.out()).startsWith("OpenSSL 3");
  }

  private static String payloadOf(String bundle) {
    return bundle.replaceAll("(?s).*\"payload\" : \"([^\"]+)\".*", "$1");
  }

  private static String sigOf(String bundle) {
    return bundle.replaceAll("(?s).*\"sig\" : \"([^\"]+)\".*", "$1");
  }

  @ParameterizedTest
  @CsvSource({"P256,-sha256", "P384,-sha384"})
  void ourSignatureOverPae_verifiesWithOpensslDgst(KeyCurve curve, String digest) throws Exception {
    SigningKey key = SigningKey.generate(curve);
    key.writePublicKey(tmp.resolve("pub.pem"));
    Path dir = TestBundles.model(tmp, "m", null);
    BundleSigner.of(key).sign(dir, BundleOptions.defaults());
    String bundle = Files.readString(dir.resolve("model.sig"));
    Files.write(
        tmp.resolve("pae.bin"),
        Dsse.pae("application/vnd.in-toto+json", Base64.getDecoder().decode(payloadOf(bundle))));
    Files.write(tmp.resolve("sig.der"), Base64.getDecoder().decode(sigOf(bundle)));

    Processes.Output ok =
        Processes.openssl(
            tmp, "dgst", digest, "-verify", "pub.pem", "-signature", "sig.der", "pae.bin");
    assertThat(ok.out()).contains("Verified OK");
    assertThat(ok.code()).isZero();

    TestBundles.xorByte(tmp.resolve("pae.bin"), 40, 1);
    Processes.Output bad =
        Processes.openssl(
            tmp, "dgst", digest, "-verify", "pub.pem", "-signature", "sig.der", "pae.bin");
    assertThat(bad.out()).contains("Verification failure");
    assertThat(bad.code()).isNotZero();
  }

  @ParameterizedTest
  @CsvSource({"P-256,-sha256", "P-384,-sha384"})
  void opensslKeysAndDerSignature_placedIntoBundle_verifyHere(String curve, String digest)
      throws Exception {
    assertThat(
            Processes.openssl(
                    tmp,
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:" + curve,
                    "-out",
                    "key.pem")
                .code())
        .isZero();
    assertThat(
            Processes.openssl(tmp, "pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem").code())
        .isZero();
    SigningKey ours = SigningKey.read(tmp.resolve("key.pem"));
    VerificationKey pub = VerificationKey.read(tmp.resolve("pub.pem"));
    assertThat(ours.verificationKey()).isEqualTo(pub);
    // Key ids are SHA-256 of the PEM text; OpenSSL writes the same canonical PEM.
    assertThat(pub.toPem()).isEqualTo(Files.readString(tmp.resolve("pub.pem")));

    Path dir = TestBundles.model(tmp, "m", null);
    BundleSigner.of(ours).sign(dir, BundleOptions.defaults());
    Path sigFile = dir.resolve("model.sig");
    String bundle = Files.readString(sigFile);
    Files.write(
        tmp.resolve("pae.bin"),
        Dsse.pae("application/vnd.in-toto+json", Base64.getDecoder().decode(payloadOf(bundle))));
    Processes.Output signed =
        Processes.openssl(tmp, "dgst", digest, "-sign", "key.pem", "-out", "ossl.der", "pae.bin");
    assertThat(signed.code()).as(signed.out()).isZero();
    String opensslSig =
        Base64.getEncoder().encodeToString(Files.readAllBytes(tmp.resolve("ossl.der")));
    assertThat(opensslSig).isNotEqualTo(sigOf(bundle));
    Files.writeString(sigFile, bundle.replace(sigOf(bundle), opensslSig));

    VerifiedBundle b =
        BundleVerifier.of(TrustStore.pinned(List.of(pub))).verify(dir, BundleOptions.defaults());
    assertThat(b.signerKeyIds()).containsExactly(pub.keyId());
  }

  @Test
  void opensslSignatureWithWrongHashForCurve_isRejected() throws Exception {
    Processes.openssl(
        tmp,
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "key.pem");
    Processes.openssl(tmp, "pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem");
    SigningKey ours = SigningKey.read(tmp.resolve("key.pem"));
    Path dir = TestBundles.model(tmp, "m", null);
    BundleSigner.of(ours).sign(dir, BundleOptions.defaults());
    Path sigFile = dir.resolve("model.sig");
    String bundle = Files.readString(sigFile);
    Files.write(
        tmp.resolve("pae.bin"),
        Dsse.pae("application/vnd.in-toto+json", Base64.getDecoder().decode(payloadOf(bundle))));
    Processes.openssl(tmp, "dgst", "-sha384", "-sign", "key.pem", "-out", "ossl.der", "pae.bin");
    Files.writeString(
        sigFile,
        bundle.replace(
            sigOf(bundle),
            Base64.getEncoder().encodeToString(Files.readAllBytes(tmp.resolve("ossl.der")))));

    assertThatThrownBy(
            () ->
                BundleVerifier.of(
                        TrustStore.pinned(List.of(VerificationKey.read(tmp.resolve("pub.pem")))))
                    .verify(dir, BundleOptions.defaults()))
        .isInstanceOf(TamperedArtifactException.class);
  }
}
