package io.edgeslm.signing.internal.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.signing.BundleLimits;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.internal.crypto.Digests;
import io.edgeslm.signing.internal.crypto.Hex;
import io.edgeslm.signing.internal.json.StrictJson;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Writes and reads the OMS v1.0 in-toto statement. Reading happens only after the signature over
 * the raw payload has verified; it still checks every field, since a trusted key may have signed a
 * statement produced by a buggy or different tool.
 */
public final class StatementCodec {
  /** Bound on recorded ignore paths (the reference tool records a handful). */
  public static final int MAX_IGNORE_PATHS = 256;

  private StatementCodec() {}

  /** The root digest: SHA-256 over the raw resource digests in listed order (never re-sorted). */
  public static byte[] rootDigest(List<Statement.Resource> resources) {
    MessageDigest md = Digests.sha256();
    for (Statement.Resource r : resources) {
      md.update(Hex.decode(r.digestHex()));
    }
    return md.digest();
  }

  public static byte[] write(Statement s) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode root = f.objectNode();
    root.put("_type", OmsFormat.STATEMENT_TYPE);
    ArrayNode subject = root.putArray("subject");
    ObjectNode subj = subject.addObject();
    subj.put("name", s.subjectName());
    subj.putObject("digest").put("sha256", s.rootDigestHex());
    root.put("predicateType", OmsFormat.PREDICATE_TYPE);
    ObjectNode predicate = root.putObject("predicate");
    ObjectNode ser = predicate.putObject("serialization");
    ser.put("method", s.method());
    ser.put("hash_type", s.hashType());
    ser.put("allow_symlinks", s.allowSymlinks());
    if (s.ignorePaths() != null) {
      ArrayNode ign = ser.putArray("ignore_paths");
      s.ignorePaths().forEach(ign::add);
    }
    ArrayNode resources = predicate.putArray("resources");
    for (Statement.Resource r : s.resources()) {
      ObjectNode o = resources.addObject();
      o.put("name", r.name());
      o.put("algorithm", r.algorithm());
      o.put("digest", r.digestHex());
    }
    return StrictJson.write(root);
  }

  /**
   * Parses and checks a statement that a trusted key signed.
   *
   * @param source names model.sig for messages
   */
  public static Statement parse(byte[] payload, BundleLimits limits, String source)
      throws MalformedInputException {
    String where = source + " statement";
    ObjectNode root = StrictJson.parseObject(payload, where);
    String type = StrictJson.text(root, "_type", where);
    if (!OmsFormat.STATEMENT_TYPE.equals(type)) {
      throw new MalformedInputException(
          where
              + ": _type is \""
              + type
              + "\", expected \""
              + OmsFormat.STATEMENT_TYPE
              + "\" (in-toto Statement v1). This is not an OMS v1.0 signature.");
    }
    String predicateType = StrictJson.text(root, "predicateType", where);
    if (!OmsFormat.PREDICATE_TYPE.equals(predicateType)) {
      throw new MalformedInputException(
          where
              + ": predicateType is \""
              + predicateType
              + "\", expected \""
              + OmsFormat.PREDICATE_TYPE
              + "\". Sign the model with an OMS v1.0 signer.");
    }
    ArrayNode subjects = StrictJson.array(root, "subject", where);
    if (subjects.size() != 1) {
      throw new MalformedInputException(
          where
              + ": subject has "
              + subjects.size()
              + " entries; OMS v1.0 requires exactly one (the model). Re-sign the model.");
    }
    JsonNode subject = subjects.get(0);
    if (!subject.isObject()) {
      throw new MalformedInputException(where + ": subject[0] must be an object. Re-sign.");
    }
    String subjectName = StrictJson.text(subject, "name", where + ".subject[0]");
    String rootHex =
        StrictJson.text(
            StrictJson.object(subject, "digest", where + ".subject[0]"),
            "sha256",
            where + ".subject[0].digest");
    if (!Hex.isLowerHex(rootHex, 32)) {
      throw new MalformedInputException(
          where
              + ": subject digest \""
              + Hex.abbreviate(rootHex)
              + "\" is not 64 lowercase hex digits (SHA-256). Re-sign the model.");
    }
    ObjectNode predicate = StrictJson.object(root, "predicate", where);
    ObjectNode ser = StrictJson.object(predicate, "serialization", where + ".predicate");
    String serWhere = where + ".predicate.serialization";
    String method = StrictJson.text(ser, "method", serWhere);
    if (!OmsFormat.METHOD_FILES.equals(method)) {
      throw new MalformedInputException(
          serWhere
              + ".method is \""
              + method
              + "\"; this verifier supports \"files\" only (one digest per file). Re-sign the"
              + " model without sharding.");
    }
    String hashType = StrictJson.text(ser, "hash_type", serWhere);
    if (!OmsFormat.HASH_SHA256.equals(hashType)) {
      throw new MalformedInputException(
          serWhere
              + ".hash_type is \""
              + hashType
              + "\"; this verifier supports \"sha256\" only. Re-sign with hash type sha256.");
    }
    boolean allowSymlinks = StrictJson.bool(ser, "allow_symlinks", serWhere);
    List<String> ignorePaths = null;
    Optional<ArrayNode> ign = StrictJson.optArray(ser, "ignore_paths", serWhere);
    if (ign.isPresent()) {
      if (ign.get().size() > MAX_IGNORE_PATHS) {
        throw new MalformedInputException(
            serWhere
                + ".ignore_paths has "
                + ign.get().size()
                + " entries, over the bound of "
                + MAX_IGNORE_PATHS
                + ". Re-sign with fewer ignore paths.");
      }
      ignorePaths = new ArrayList<>();
      for (JsonNode n : ign.get()) {
        if (!n.isTextual()) {
          throw new MalformedInputException(serWhere + ".ignore_paths must hold strings.");
        }
        // Tolerate names the reference tool may record (e.g. absolute or odd ones): they can only
        // hide files from the "extra file" check, never add files to the signed set.
        ignorePaths.add(n.textValue());
      }
    }
    ArrayNode res = StrictJson.array(predicate, "resources", where + ".predicate");
    if (res.size() > limits.maxFiles()) {
      throw new MalformedInputException(
          where
              + " lists "
              + res.size()
              + " resources, over the bound of "
              + limits.maxFiles()
              + " files (rule: bounded file count). Split the model or raise the limit.");
    }
    List<Statement.Resource> resources = new ArrayList<>(res.size());
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < res.size(); i++) {
      JsonNode r = res.get(i);
      String rw = where + ".predicate.resources[" + i + "]";
      if (!r.isObject()) {
        throw new MalformedInputException(rw + " must be an object. Re-sign the model.");
      }
      String name = StrictJson.text(r, "name", rw);
      Optional<String> bad = ResourceNames.violation(name, limits.maxNameLength());
      if (bad.isPresent()) {
        throw new MalformedInputException(
            rw
                + ": resource name \""
                + shorten(name)
                + "\" breaks a rule: "
                + bad.get()
                + ". The signature lists a file outside the model directory; refuse this bundle.");
      }
      if (!seen.add(name)) {
        throw new MalformedInputException(
            rw
                + ": resource name \""
                + shorten(name)
                + "\" is listed twice (rule: unique names). Refuse this bundle and re-sign it.");
      }
      String algorithm = StrictJson.text(r, "algorithm", rw);
      if (!hashType.equals(algorithm)) {
        throw new MalformedInputException(
            rw
                + ": algorithm \""
                + algorithm
                + "\" differs from serialization hash_type \""
                + hashType
                + "\". Re-sign the model with one hash type.");
      }
      String digest = StrictJson.text(r, "digest", rw);
      if (!Hex.isLowerHex(digest, 32)) {
        throw new MalformedInputException(
            rw
                + ": digest \""
                + shorten(digest)
                + "\" is not 64 lowercase hex digits (SHA-256). Re-sign the model.");
      }
      resources.add(new Statement.Resource(name, algorithm, digest));
    }
    String computed = Hex.encode(rootDigest(resources));
    if (!computed.equals(rootHex)) {
      throw new MalformedInputException(
          where
              + ": subject digest sha256:"
              + Hex.abbreviate(rootHex)
              + " does not match the resources' root digest sha256:"
              + Hex.abbreviate(computed)
              + " (SHA-256 over the listed digests in order). The signer produced an"
              + " inconsistent statement; re-sign the model.");
    }
    return new Statement(
        subjectName, rootHex, method, hashType, allowSymlinks, ignorePaths, resources);
  }

  static String shorten(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
