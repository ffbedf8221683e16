package io.edgeslm.signing.internal.release;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.ReleaseKind;
import io.edgeslm.signing.ReleaseMetadata;
import io.edgeslm.signing.TargetSelector;
import io.edgeslm.signing.internal.json.StrictJson;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@code release.json}: reading (strict on known fields, tolerant of unknown ones) and writing. */
public final class ReleaseCodec {
  private ReleaseCodec() {}

  public static ReleaseMetadata parse(byte[] json, String source) throws MalformedInputException {
    ObjectNode o = StrictJson.parseObject(json, source);
    try {
      long schema = StrictJson.integer(o, "schemaVersion", source);
      ObjectNode t =
          StrictJson.optObject(o, "target", source).orElse(JsonNodeFactory.instance.objectNode());
      String tw = source + ".target";
      TargetSelector target =
          new TargetSelector(
              strings(t, "architectures", tw),
              strings(t, "deviceClasses", tw),
              StrictJson.optInteger(t, "minRamMb", tw).orElse(0L),
              labels(t, tw));
      String expiresText = StrictJson.text(o, "expires", source);
      Instant expires;
      try {
        expires = Instant.parse(expiresText);
      } catch (DateTimeParseException e) {
        throw new MalformedInputException(
            source
                + ".expires \""
                + expiresText
                + "\" is not an RFC 3339 UTC instant such as 2027-01-31T00:00:00Z. Regenerate"
                + " release.json with 'release init'.",
            e);
      }
      JsonNode tasks = o.get("tasks");
      if (tasks != null && !tasks.isNull() && !tasks.isObject()) {
        throw new MalformedInputException(source + ".tasks must be a JSON object.");
      }
      String kindText = StrictJson.optText(o, "kind", source).orElse("model");
      ReleaseKind kind =
          ReleaseKind.ofJsonName(kindText)
              .orElseThrow(
                  () ->
                      new MalformedInputException(
                          source
                              + ".kind \""
                              + kindText
                              + "\" is not 'model' or 'adapter'. Regenerate release.json with"
                              + " 'release init'."));
      return new ReleaseMetadata(
          (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, schema)),
          StrictJson.text(o, "model", source),
          StrictJson.integer(o, "version", source),
          StrictJson.text(o, "channel", source),
          expires,
          target,
          StrictJson.text(o, "minAgentVersion", source),
          StrictJson.text(o, "modelFile", source),
          StrictJson.optText(o, "evaluationFile", source),
          tasks == null || tasks.isNull()
              ? "{}"
              : new String(StrictJson.write(tasks), java.nio.charset.StandardCharsets.UTF_8),
          kind,
          StrictJson.optText(o, "baseModelDigest", source));
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException(
          source + ": " + e.getMessage() + ". Regenerate release.json with 'release init'.", e);
    }
  }

  public static byte[] write(ReleaseMetadata r) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("schemaVersion", r.schemaVersion());
    o.put("model", r.model());
    o.put("version", r.version());
    o.put("channel", r.channel());
    o.put("expires", r.expires().toString());
    ObjectNode t = o.putObject("target");
    ArrayNode arch = t.putArray("architectures");
    r.target().architectures().stream().sorted().forEach(arch::add);
    ArrayNode dc = t.putArray("deviceClasses");
    r.target().deviceClasses().stream().sorted().forEach(dc::add);
    t.put("minRamMb", r.target().minRamMb());
    ObjectNode labels = t.putObject("labels");
    r.target().labels().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> labels.put(e.getKey(), e.getValue()));
    o.put("minAgentVersion", r.minAgentVersion());
    o.put("modelFile", r.modelFile());
    r.evaluationFile().ifPresent(f -> o.put("evaluationFile", f));
    // A model's release.json stays byte for byte what it was before adapters existed.
    if (r.kind() != ReleaseKind.MODEL) {
      o.put("kind", r.kind().jsonName());
    }
    r.baseModelDigest().ifPresent(d -> o.put("baseModelDigest", d));
    try {
      o.set("tasks", StrictJson.mapper().readTree(r.taskConfigJson()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("task configuration was validated on construction", e);
    }
    return StrictJson.write(o);
  }

  /**
   * Re-serializes a task configuration so that equal JSON gives equal text; refuses anything but a
   * JSON object.
   */
  public static String canonicalTaskConfig(String json) {
    if (json == null || json.isBlank()) {
      return "{}";
    }
    JsonNode n;
    try {
      n = StrictJson.mapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "task configuration is not valid JSON: " + e.getOriginalMessage());
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("task configuration must be a JSON object");
    }
    try {
      return StrictJson.mapper()
          .writer()
          .without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Set<String> strings(ObjectNode o, String field, String where)
      throws MalformedInputException {
    Optional<ArrayNode> a = StrictJson.optArray(o, field, where);
    Set<String> out = new LinkedHashSet<>();
    if (a.isPresent()) {
      for (JsonNode n : a.get()) {
        if (!n.isTextual()) {
          throw new MalformedInputException(where + "." + field + " must hold strings.");
        }
        out.add(n.textValue());
      }
    }
    return out;
  }

  private static Map<String, String> labels(ObjectNode t, String where)
      throws MalformedInputException {
    Optional<ObjectNode> l = StrictJson.optObject(t, "labels", where);
    Map<String, String> out = new LinkedHashMap<>();
    if (l.isPresent()) {
      Iterator<Map.Entry<String, JsonNode>> it = l.get().fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual()) {
          throw new MalformedInputException(where + ".labels." + e.getKey() + " must be a string.");
        }
        out.put(e.getKey(), e.getValue().textValue());
      }
    }
    return out;
  }
}
