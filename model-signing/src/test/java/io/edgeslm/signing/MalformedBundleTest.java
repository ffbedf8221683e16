package io.edgeslm.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed model.sig and statements: each is refused with a MalformedInputException. */
class MalformedBundleTest {
  @TempDir Path tmp;

  private final SigningKey key = SigningKey.generate(KeyCurve.P256);
  private Path dir;
  private Path sig;
  private String good;

  @BeforeEach
  void signGoodBundle() throws Exception {
    dir = TestBundles.model(tmp, "m", null);
    BundleSigner.of(key).sign(dir, BundleOptions.defaults());
    sig = dir.resolve("model.sig");
    good = Files.readString(sig);
  }

  private void verify() throws SigningException {
    BundleVerifier.of(TrustStore.pinned(List.of(key.verificationKey())))
        .verify(dir, BundleOptions.defaults());
  }

  private void withSig(String text) throws Exception {
    Files.writeString(sig, text);
  }

  /** Signs a statement (validly) made from the model's real files, edited by {@code edit}. */
  private void withStatement(java.util.function.UnaryOperator<String> edit) throws Exception {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("model.gguf", Files.readAllBytes(dir.resolve("model.gguf")));
    files.put("prompts/system.txt", Files.readAllBytes(dir.resolve("prompts/system.txt")));
    String json = edit.apply(TestBundles.statementJson("m", files, "sha256"));
    TestBundles.signStatement(key, json.getBytes(StandardCharsets.UTF_8), sig);
  }

  @Test
  void verify_goodBundleAndHandBuiltStatement_succeed() throws Exception {
    verify();
    withStatement(s -> s);
    verify();
  }

  @Test
  void verify_truncatedModelSig_rejectsAsNotJson() throws Exception {
    withSig(good.substring(0, good.length() / 2));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("model.sig is not valid JSON");
  }

  @Test
  void verify_nonJsonModelSig_rejects() throws Exception {
    withSig("-----BEGIN PGP SIGNATURE-----\n");
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("is not valid JSON");
    withSig("[1,2,3]");
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageEndingWith(
            "model.sig must hold a JSON object, found array. Re-copy "
                + sig.toRealPath()
                + " or regenerate it with this tool.");
  }

  @Test
  void verify_duplicateJsonKey_rejects() throws Exception {
    withSig(good.replaceFirst("\\{", "{ \"mediaType\" : \"x\","));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("Duplicate field 'mediaType'");
  }

  @Test
  void verify_wrongMediaType_rejects() throws Exception {
    withSig(good.replace("bundle.v0.3+json", "bundle.v0.1+json"));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessage(
            sig.toRealPath()
                + ": mediaType is \"application/vnd.dev.sigstore.bundle.v0.1+json\", expected"
                + " \"application/vnd.dev.sigstore.bundle.v0.3+json\" (Sigstore bundle v0.3, as"
                + " OMS v1.0 writes it). Re-sign with an OMS v1.0 signer.");
  }

  @Test
  void verify_wrongPayloadType_rejects() throws Exception {
    withSig(good.replace("application/vnd.in-toto+json", "application/json"));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining(
            ".dsseEnvelope.payloadType is \"application/json\", expected"
                + " \"application/vnd.in-toto+json\"");
  }

  @Test
  void verify_wrongStatementType_rejects() throws Exception {
    withStatement(
        s -> s.replace("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("_type is \"https://in-toto.io/Statement/v0.1\"");
  }

  @Test
  void verify_wrongPredicateType_rejects() throws Exception {
    withStatement(s -> s.replace("signature/v1.0", "signature/v0.2"));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining(
            "predicateType is \"https://model_signing/signature/v0.2\", expected"
                + " \"https://model_signing/signature/v1.0\"");
  }

  @Test
  void verify_zeroOrTwoSubjects_rejects() throws Exception {
    withStatement(s -> s.replaceAll("\"subject\":\\[\\{.*?\\}\\}\\]", "\"subject\":[]"));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("subject has 0 entries; OMS v1.0 requires exactly one");
    withStatement(
        s ->
            s.replace(
                "\"subject\":[{",
                "\"subject\":[{\"name\":\"x\",\"digest\":{\"sha256\":\""
                    + "0".repeat(64)
                    + "\"}},{"));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("subject has 2 entries");
  }

  @Test
  void verify_unknownHashType_rejects() throws Exception {
    withStatement(s -> s.replace("\"hash_type\":\"sha256\"", "\"hash_type\":\"blake2b\""));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining(".hash_type is \"blake2b\"; this verifier supports \"sha256\" only.");
    withStatement(s -> s.replaceFirst("\"algorithm\":\"sha256\"", "\"algorithm\":\"md5\""));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("algorithm \"md5\" differs from serialization hash_type");
  }

  @Test
  void verify_shardedSerialization_rejectsWithNextStep() throws Exception {
    withStatement(s -> s.replace("\"method\":\"files\"", "\"method\":\"shards\""));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("supports \"files\" only");
  }

  @Test
  void verify_badBase64_rejects() throws Exception {
    withSig(good.replaceFirst("\"payload\" : \"", "\"payload\" : \"!"));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining(".dsseEnvelope.payload is not base64");
    withSig(good.replaceFirst("\"sig\" : \"", "\"sig\" : \"*"));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining(".sig is not base64");
  }

  @Test
  void verify_urlSafeBase64_isAcceptedAsDsseRequires() throws Exception {
    String payload = good.replaceAll("(?s).*\"payload\" : \"([^\"]+)\".*", "$1");
    String sigB64 = good.replaceAll("(?s).*\"sig\" : \"([^\"]+)\".*", "$1");
    String urlPayload = Base64.getUrlEncoder().encodeToString(Base64.getDecoder().decode(payload));
    String urlSig =
        Base64.getUrlEncoder().withoutPadding().encodeToString(Base64.getDecoder().decode(sigB64));
    withSig(good.replace(payload, urlPayload).replace(sigB64, urlSig));
    verify();
  }

  @Test
  void verify_badDer_rejects() throws Exception {
    String sigB64 = good.replaceAll("(?s).*\"sig\" : \"([^\"]+)\".*", "$1");
    byte[] der = Base64.getDecoder().decode(sigB64);
    byte[] longForm = new byte[der.length + 1];
    // The same signature with a non-minimal (BER) length: not DER, refused.
    longForm[0] = 0x30;
    longForm[1] = (byte) 0x81;
    longForm[2] = der[1];
    System.arraycopy(der, 2, longForm, 3, der.length - 2);
    for (byte[] bad : List.of(new byte[] {1, 2, 3, 4}, longForm)) {
      withSig(good.replace(sigB64, Base64.getEncoder().encodeToString(bad)));
      assertThatThrownBy(this::verify)
          .isInstanceOf(MalformedInputException.class)
          .hasMessageContaining(".sig is not a DER ECDSA signature");
    }
  }

  @Test
  void verify_wrongCurveForHash_rejects() throws Exception {
    // An independent signer (the JDK's SunEC) signs the PAE of our statement with P-256 and
    // SHA-384: a valid ECDSA signature, but not the hash the curve prescribes.
    String payload = good.replaceAll("(?s).*\"payload\" : \"([^\"]+)\".*", "$1");
    byte[] pae =
        io.edgeslm.signing.internal.crypto.Dsse.pae(
            "application/vnd.in-toto+json", Base64.getDecoder().decode(payload));
    Signature jca = Signature.getInstance("SHA384withECDSA");
    jca.initSign(jcaPrivate(key));
    jca.update(pae);
    String sigB64 = good.replaceAll("(?s).*\"sig\" : \"([^\"]+)\".*", "$1");
    withSig(good.replace(sigB64, Base64.getEncoder().encodeToString(jca.sign())));
    assertThatThrownBy(this::verify)
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageContaining("the signature does not verify with release key");

    // With the right hash the same independent signer is accepted, and the JDK accepts ours.
    jca = Signature.getInstance("SHA256withECDSA");
    jca.initSign(jcaPrivate(key));
    jca.update(pae);
    withSig(good.replace(sigB64, Base64.getEncoder().encodeToString(jca.sign())));
    verify();
    Signature check = Signature.getInstance("SHA256withECDSA");
    check.initVerify(
        KeyFactory.getInstance("EC")
            .generatePublic(new X509EncodedKeySpec(key.verificationKey().subjectPublicKeyInfo())));
    check.update(pae);
    assertThat(check.verify(Base64.getDecoder().decode(sigB64))).isTrue();
  }

  @Test
  void verify_duplicateResourceNames_rejects() throws Exception {
    withStatement(s -> s.replace("\"name\":\"prompts/system.txt\"", "\"name\":\"model.gguf\""));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("resource name \"model.gguf\" is listed twice (rule: unique names)");
  }

  @Test
  void verify_dotDotAndAbsoluteNames_reject() throws Exception {
    for (String bad :
        List.of("../m/model.gguf", "/etc/shadow", "prompts/../../x", "C:/x", "a\\\\b")) {
      withStatement(s -> s.replace("\"name\":\"prompts/system.txt\"", "\"name\":\"" + bad + "\""));
      assertThatThrownBy(this::verify)
          .as(bad)
          .isInstanceOf(MalformedInputException.class)
          .hasMessageContaining("breaks a rule: a name ");
    }
  }

  @Test
  void verify_symlinkedFile_rejectsAsTampered() throws Exception {
    Path target = TestBundles.write(tmp, "elsewhere.txt", "You write short plant reports.\n");
    Files.delete(dir.resolve("prompts/system.txt"));
    Files.createSymbolicLink(dir.resolve("prompts/system.txt"), target);
    assertThatThrownBy(this::verify)
        .isInstanceOf(TamperedArtifactException.class)
        .hasMessageContaining("'prompts/system.txt' in ")
        .hasMessageContaining("is a symbolic link");
  }

  @Test
  void sign_symlink_refusesAsMalformedInput() throws Exception {
    Files.createSymbolicLink(dir.resolve("link.gguf"), dir.resolve("model.gguf"));
    assertThatThrownBy(() -> BundleSigner.of(key).sign(dir, BundleOptions.defaults()))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageEndingWith(
            "is a symbolic link. Next step: replace the link by the file it points to (links are"
                + " never signed).");
  }

  @Test
  void verify_tenMegabyteStatement_rejectedBySizeBoundBeforeParsing() throws Exception {
    StringBuilder huge = new StringBuilder(good.length() + 14_000_000);
    String filler = "A".repeat(10 * 1024 * 1024);
    huge.append(good, 0, good.indexOf("\"payload\" : \"") + 13).append(filler);
    huge.append(good.substring(good.indexOf("\"payload\" : \"") + 13));
    withSig(huge.toString());
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("(signature file) has ")
        .hasMessageContaining("over the bound of 4194304");
  }

  @Test
  void verify_unknownFieldInBundle_rejects() throws Exception {
    withSig(good.replace("\"tlogEntries\"", "\"tlogEntriez\""));
    assertThatThrownBy(this::verify)
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("has an unknown field \"tlogEntriez\"");
  }

  static java.security.PrivateKey jcaPrivate(SigningKey k) throws Exception {
    String pem = k.toPem().replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return KeyFactory.getInstance("EC")
        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
  }
}
