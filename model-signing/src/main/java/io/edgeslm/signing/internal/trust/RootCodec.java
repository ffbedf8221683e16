package io.edgeslm.signing.internal.trust;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.KeyRole;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.RoleKeys;
import io.edgeslm.signing.TrustRoot;
import io.edgeslm.signing.VerificationKey;
import io.edgeslm.signing.internal.crypto.Base64Codec;
import io.edgeslm.signing.internal.crypto.Ecdsa;
import io.edgeslm.signing.internal.json.StrictJson;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The signed trust-root file: a DSSE envelope (JSON) whose payload is the root document. As with
 * model.sig, signatures cover the PAE of the raw payload bytes, so no JSON canonicalization is
 * needed and a rotation is verified with the previous root's keys before its payload is parsed.
 */
public final class RootCodec {
  public static final String PAYLOAD_TYPE = "application/vnd.edgeslm.trust-root.v1+json";
  public static final String DOCUMENT_TYPE = "https://edgeslm.io/trust-root/v1";
  public static final int MAX_ROOT_FILE_BYTES = 1024 * 1024;
  public static final int MAX_SIGNATURES = 16;
  public static final int MAX_KEYS = 64;

  private RootCodec() {}

  /** An envelope whose signatures are not checked yet. */
  public record SignedRoot(byte[] payload, List<byte[]> signatures) {}

  public static byte[] writePayload(TrustRoot root) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode doc = f.objectNode();
    doc.put("_type", DOCUMENT_TYPE);
    doc.put("version", root.version());
    ObjectNode keys = doc.putObject("keys");
    root.keys().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              ObjectNode k = keys.putObject(e.getKey());
              k.put("curve", e.getValue().curve().standardName());
              k.put("publicKeyPem", e.getValue().toPem());
            });
    ObjectNode roles = doc.putObject("roles");
    for (KeyRole role : KeyRole.values()) {
      RoleKeys rk = root.roles().get(role);
      if (rk == null) {
        continue;
      }
      ObjectNode r = roles.putObject(role.jsonName());
      ArrayNode ids = r.putArray("keyids");
      rk.keyIds().forEach(ids::add);
      r.put("threshold", rk.threshold());
    }
    return StrictJson.write(doc);
  }

  public static byte[] writeEnvelope(byte[] payload, Map<String, byte[]> signaturesByKeyId) {
    ObjectNode env = JsonNodeFactory.instance.objectNode();
    env.put("payloadType", PAYLOAD_TYPE);
    env.put("payload", Base64Codec.encode(payload));
    ArrayNode sigs = env.putArray("signatures");
    signaturesByKeyId.forEach(
        (id, sig) -> {
          ObjectNode s = sigs.addObject();
          s.put("keyid", id);
          s.put("sig", Base64Codec.encode(sig));
        });
    return StrictJson.write(env);
  }

  public static SignedRoot parseEnvelope(byte[] bytes, String source)
      throws MalformedInputException {
    if (bytes.length > MAX_ROOT_FILE_BYTES) {
      throw new MalformedInputException(
          source
              + " has "
              + bytes.length
              + " bytes; a trust root has at most "
              + MAX_ROOT_FILE_BYTES
              + ". Point at a trust-root file written by 'trust init' or 'trust rotate'.");
    }
    ObjectNode env = StrictJson.parseObject(bytes, source);
    String type = StrictJson.text(env, "payloadType", source);
    if (!PAYLOAD_TYPE.equals(type)) {
      throw new MalformedInputException(
          source
              + ".payloadType is \""
              + type
              + "\", expected \""
              + PAYLOAD_TYPE
              + "\". This is not an EdgeSLM trust root; create one with 'trust init'.");
    }
    byte[] payload =
        Base64Codec.decode(StrictJson.text(env, "payload", source))
            .orElseThrow(
                () -> new MalformedInputException(source + ".payload is not base64. Re-copy it."));
    ArrayNode sigs = StrictJson.array(env, "signatures", source);
    if (sigs.size() > MAX_SIGNATURES) {
      throw new MalformedInputException(
          source
              + " carries "
              + sigs.size()
              + " signatures, over the bound of "
              + MAX_SIGNATURES
              + ". Refuse it.");
    }
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < sigs.size(); i++) {
      JsonNode s = sigs.get(i);
      String sw = source + ".signatures[" + i + "]";
      if (!s.isObject()) {
        throw new MalformedInputException(sw + " must be an object. Re-copy the trust root.");
      }
      byte[] der =
          Base64Codec.decode(StrictJson.text(s, "sig", sw))
              .orElseThrow(() -> new MalformedInputException(sw + ".sig is not base64."));
      if (Ecdsa.parseDer(der).isEmpty()) {
        throw new MalformedInputException(sw + ".sig is not a DER ECDSA signature.");
      }
      out.add(der);
    }
    return new SignedRoot(payload, out);
  }

  public static TrustRoot parsePayload(byte[] payload, String source)
      throws MalformedInputException {
    String where = source + " root";
    ObjectNode doc = StrictJson.parseObject(payload, where);
    String type = StrictJson.text(doc, "_type", where);
    if (!DOCUMENT_TYPE.equals(type)) {
      throw new MalformedInputException(
          where + "._type is \"" + type + "\", expected \"" + DOCUMENT_TYPE + "\".");
    }
    long version = StrictJson.integer(doc, "version", where);
    if (version < 1) {
      throw new MalformedInputException(
          where + ".version is " + version + "; signed roots start at version 1.");
    }
    ObjectNode keysNode = StrictJson.object(doc, "keys", where);
    if (keysNode.size() > MAX_KEYS) {
      throw new MalformedInputException(
          where + ".keys lists " + keysNode.size() + " keys, over the bound of " + MAX_KEYS + ".");
    }
    Map<String, VerificationKey> keys = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = keysNode.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String kw = where + ".keys." + e.getKey();
      if (!e.getValue().isObject()) {
        throw new MalformedInputException(kw + " must be an object.");
      }
      KeyCurve declared = KeyCurve.fromName(StrictJson.text(e.getValue(), "curve", kw));
      VerificationKey key =
          VerificationKey.fromPem(StrictJson.text(e.getValue(), "publicKeyPem", kw), kw);
      if (key.curve() != declared) {
        throw new MalformedInputException(
            kw + " declares curve " + declared + " but holds a " + key.curve() + " key.");
      }
      if (!key.keyId().equals(e.getKey())) {
        throw new MalformedInputException(
            kw + ": the key's id is " + key.keyId() + ", not the id it is listed under.");
      }
      keys.put(e.getKey(), key);
    }
    ObjectNode rolesNode = StrictJson.object(doc, "roles", where);
    Map<KeyRole, RoleKeys> roles = new EnumMap<>(KeyRole.class);
    for (KeyRole role : KeyRole.values()) {
      String rw = where + ".roles." + role.jsonName();
      ObjectNode r = StrictJson.object(rolesNode, role.jsonName(), where + ".roles");
      ArrayNode ids = StrictJson.array(r, "keyids", rw);
      List<String> keyIds = new ArrayList<>();
      for (JsonNode id : ids) {
        if (!id.isTextual()) {
          throw new MalformedInputException(rw + ".keyids must hold strings.");
        }
        keyIds.add(id.textValue());
      }
      long threshold = StrictJson.integer(r, "threshold", rw);
      try {
        roles.put(role, new RoleKeys(keyIds, (int) Math.min(Integer.MAX_VALUE, threshold)));
      } catch (IllegalArgumentException e) {
        throw new MalformedInputException(rw + ": " + e.getMessage() + ".", e);
      }
    }
    try {
      return new TrustRoot(version, keys, roles);
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException(where + ": " + e.getMessage() + ".", e);
    }
  }
}
