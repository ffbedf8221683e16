package io.edgeslm.signing.internal.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.signing.BundleLimits;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.VerificationKey;
import io.edgeslm.signing.internal.crypto.Base64Codec;
import io.edgeslm.signing.internal.crypto.Ecdsa;
import io.edgeslm.signing.internal.json.StrictJson;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Sigstore bundle (v0.3) that OMS stores in {@code model.sig}, {@code key} method: a DSSE
 * envelope plus a public-key hint. Parsing stops at the envelope: the payload stays raw bytes until
 * a trusted key's signature over its PAE has verified.
 */
public final class SigstoreBundleCodec {
  private SigstoreBundleCodec() {}

  /**
   * An envelope whose structure is valid and whose signature bytes are well-formed DER. Nothing in
   * it is authenticated yet.
   *
   * @param keyHint the unsigned key id the bundle names (from {@code hint} or {@code rawBytes}),
   *     for messages only, or null
   */
  public record Envelope(
      String keyHint,
      String keyDetails,
      String payloadType,
      byte[] payload,
      List<byte[]> signatures) {}

  /** The Sigstore key-details name for a curve, as model_signing writes it (v1.0.x bundles). */
  public static String keyDetailsFor(io.edgeslm.signing.KeyCurve curve) {
    return switch (curve) {
      case P256 -> "PKIX_ECDSA_P256_SHA_256";
      case P384 -> "PKIX_ECDSA_P384_SHA_384";
    };
  }

  public static byte[] write(byte[] payload, List<byte[]> signatures, String keyHint) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode root = f.objectNode();
    root.put("mediaType", OmsFormat.BUNDLE_MEDIA_TYPE);
    ObjectNode vm = root.putObject("verificationMaterial");
    vm.putObject("publicKey").put("hint", keyHint);
    vm.putArray("tlogEntries");
    ObjectNode env = root.putObject("dsseEnvelope");
    env.put("payload", Base64Codec.encode(payload));
    env.put("payloadType", OmsFormat.PAYLOAD_TYPE);
    ArrayNode sigs = env.putArray("signatures");
    for (byte[] sig : signatures) {
      ObjectNode s = sigs.addObject();
      s.put("sig", Base64Codec.encode(sig));
      s.put("keyid", "");
    }
    return StrictJson.write(root);
  }

  public static Envelope parse(byte[] json, BundleLimits limits, String source)
      throws MalformedInputException {
    ObjectNode root = StrictJson.parseObject(json, source);
    onlyFields(root, source, "mediaType", "verificationMaterial", "dsseEnvelope");
    String mediaType = StrictJson.text(root, "mediaType", source);
    if (!OmsFormat.BUNDLE_MEDIA_TYPE.equals(mediaType)
        && !OmsFormat.BUNDLE_MEDIA_TYPE_ALT.equals(mediaType)) {
      throw new MalformedInputException(
          source
              + ": mediaType is \""
              + mediaType
              + "\", expected \""
              + OmsFormat.BUNDLE_MEDIA_TYPE
              + "\" (Sigstore bundle v0.3, as OMS v1.0 writes it). Re-sign with an OMS v1.0"
              + " signer.");
    }
    ObjectNode vm = StrictJson.object(root, "verificationMaterial", source);
    String vw = source + ".verificationMaterial";
    onlyFields(vm, vw, "publicKey", "tlogEntries", "timestampVerificationData");
    if (vm.has("tlogEntries")) {
      ArrayNode tlog = StrictJson.array(vm, "tlogEntries", vw);
      if (!tlog.isEmpty()) {
        throw new MalformedInputException(
            vw
                + ".tlogEntries is not empty: transparency-log entries belong to the Sigstore"
                + " (keyless) method, which this offline verifier does not support. Sign with a"
                + " key.");
      }
    }
    ObjectNode pk = StrictJson.object(vm, "publicKey", vw);
    String pw = vw + ".publicKey";
    onlyFields(pk, pw, "hint", "rawBytes", "keyDetails");
    String hint = keyHint(pk, pw);
    String keyDetails = StrictJson.optText(pk, "keyDetails", pw).orElse(null);
    ObjectNode env = StrictJson.object(root, "dsseEnvelope", source);
    String where = source + ".dsseEnvelope";
    onlyFields(env, where, "payload", "payloadType", "signatures");
    String payloadType = StrictJson.text(env, "payloadType", where);
    if (!OmsFormat.PAYLOAD_TYPE.equals(payloadType)) {
      throw new MalformedInputException(
          where
              + ".payloadType is \""
              + payloadType
              + "\", expected \""
              + OmsFormat.PAYLOAD_TYPE
              + "\" (an in-toto statement). This is not an OMS model signature.");
    }
    String payloadText = StrictJson.text(env, "payload", where);
    byte[] payload =
        Base64Codec.decode(payloadText)
            .orElseThrow(
                () ->
                    new MalformedInputException(
                        where
                            + ".payload is not base64 (standard or URL-safe alphabet). The file"
                            + " was damaged; re-copy it."));
    ArrayNode sigs = StrictJson.array(env, "signatures", where);
    if (sigs.isEmpty()) {
      throw new MalformedInputException(
          where + ".signatures is empty: the bundle is unsigned. Sign the model first.");
    }
    if (sigs.size() > limits.maxSignatures()) {
      throw new MalformedInputException(
          where
              + ".signatures has "
              + sigs.size()
              + " entries, over the bound of "
              + limits.maxSignatures()
              + ". Refuse this bundle.");
    }
    List<byte[]> signatures = new ArrayList<>();
    for (int i = 0; i < sigs.size(); i++) {
      JsonNode s = sigs.get(i);
      String sw = where + ".signatures[" + i + "]";
      if (!s.isObject()) {
        throw new MalformedInputException(sw + " must be an object. Re-copy the bundle.");
      }
      onlyFields(s, sw, "sig", "keyid");
      // keyid may be absent, empty or null (DSSE: optional, unauthenticated): never used.
      String sigText = StrictJson.text(s, "sig", sw);
      byte[] der =
          Base64Codec.decode(sigText)
              .orElseThrow(
                  () ->
                      new MalformedInputException(
                          sw
                              + ".sig is not base64. The signature was damaged; re-copy the bundle."));
      if (Ecdsa.parseDer(der).isEmpty()) {
        throw new MalformedInputException(
            sw
                + ".sig is not a DER ECDSA signature (SEQUENCE of two positive INTEGERs, RFC"
                + " 5480). The signature was damaged or made by a non-ECDSA signer; re-sign.");
      }
      signatures.add(der);
    }
    return new Envelope(hint, keyDetails, payloadType, payload, signatures);
  }

  /**
   * The key id the bundle claims (from {@code hint}, or computed from {@code rawBytes}), unsigned:
   * it never selects a key; the verifier only checks that it names a key that really signed.
   */
  private static String keyHint(ObjectNode pk, String where) throws MalformedInputException {
    Optional<String> hint = StrictJson.optText(pk, "hint", where);
    Optional<String> raw = StrictJson.optText(pk, "rawBytes", where);
    if (hint.isPresent() == raw.isPresent()) {
      throw new MalformedInputException(
          where
              + " must carry exactly one of 'hint' or 'rawBytes' (found "
              + (hint.isPresent() ? "both" : "neither")
              + "). Re-sign with an OMS v1.0 key signer.");
    }
    if (hint.isPresent()) {
      if (!io.edgeslm.signing.internal.crypto.Hex.isLowerHex(hint.get(), 32)) {
        throw new MalformedInputException(
            where + ".hint is not 64 lowercase hex digits (SHA-256 of the PEM public key).");
      }
      return hint.get();
    }
    byte[] pem =
        Base64Codec.decode(raw.get())
            .orElseThrow(() -> new MalformedInputException(where + ".rawBytes is not base64."));
    VerificationKey.fromPem(new String(pem, StandardCharsets.US_ASCII), where + ".rawBytes");
    // The key id is the SHA-256 of the PEM text exactly as stored (the hint's definition), so a
    // bundle whose rawBytes differ from the signer's canonical PEM in any byte does not match.
    return io.edgeslm.signing.internal.crypto.Hex.encode(
        io.edgeslm.signing.internal.crypto.Digests.sha256(pem));
  }

  /** Refuses fields this format does not define: a changed name is a changed file. */
  private static void onlyFields(JsonNode node, String where, String... allowed)
      throws MalformedInputException {
    java.util.Set<String> ok = java.util.Set.of(allowed);
    java.util.Iterator<String> it = node.fieldNames();
    while (it.hasNext()) {
      String f = it.next();
      if (!ok.contains(f)) {
        throw new MalformedInputException(
            where
                + " has an unknown field \""
                + StatementCodec.shorten(f)
                + "\" (allowed: "
                + String.join(", ", allowed)
                + "). The file is damaged or not an OMS v1.0 key bundle; re-copy it.");
      }
    }
  }
}
