package io.edgeslm.inference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A JSON Schema (draft 7) used twice: sent with the request so the engine constrains sampling with
 * a grammar derived from it, then checked in Java against the parsed output, since the grammar
 * converter silently ignores keywords it does not support.
 *
 * <p>Per-request allowlists: {@link #restrictEnum(String, Collection)} narrows a string property to
 * the values valid for this request (for example the status the rules computed, or the sensor ids
 * actually present), so that both the grammar and the check exclude everything else.
 *
 * <p>Only local references ({@code $ref} starting with {@code #}) are accepted: a schema never
 * makes the validator fetch anything.
 */
public final class OutputSchema {
  /** Longest model output accepted for parsing. */
  public static final int MAX_OUTPUT_CHARS = 64 * 1024;

  private static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  static {
    MAPPER
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(64).maxStringLength(65536).build());
  }

  private static final JsonSchemaFactory FACTORY =
      JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7);

  private final ObjectNode schema;
  private final JsonSchema compiled;
  private final String text;

  private OutputSchema(ObjectNode schema) {
    requireLocalRefs(schema);
    this.schema = schema;
    this.text = schema.toString();
    this.compiled = FACTORY.getSchema(schema);
  }

  /**
   * Parses a schema.
   *
   * @throws IllegalArgumentException if it is not a JSON object, is too large, or refers to
   *     anything outside itself
   */
  public static OutputSchema of(String schemaJson) {
    Objects.requireNonNull(schemaJson, "schemaJson");
    if (schemaJson.length() > GenerationRequest.MAX_GRAMMAR_CHARS) {
      throw new IllegalArgumentException(
          "A JSON schema may hold at most "
              + GenerationRequest.MAX_GRAMMAR_CHARS
              + " characters, got "
              + schemaJson.length());
    }
    try {
      JsonNode node = MAPPER.readTree(schemaJson);
      if (!(node instanceof ObjectNode o)) {
        throw new IllegalArgumentException("A JSON schema must be a JSON object.");
      }
      return new OutputSchema(o);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "The JSON schema is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** A schema given as a parsed tree (copied). */
  public static OutputSchema of(JsonNode schema) {
    if (!(schema instanceof ObjectNode o)) {
      throw new IllegalArgumentException("A JSON schema must be a JSON object.");
    }
    return new OutputSchema(o.deepCopy());
  }

  /**
   * A copy in which the subschema at {@code pointer} (a JSON pointer into the schema, e.g. {@code
   * /properties/status}) allows exactly the strings in {@code allowed}.
   *
   * @throws IllegalArgumentException if the pointer names no object in the schema, or {@code
   *     allowed} is empty or holds more than 1024 values
   */
  public OutputSchema restrictEnum(String pointer, Collection<String> allowed) {
    if (allowed.isEmpty() || allowed.size() > 1024) {
      throw new IllegalArgumentException(
          "An enum allowlist needs 1..1024 values, got " + allowed.size() + " for " + pointer);
    }
    ObjectNode copy = schema.deepCopy();
    JsonNode target = copy.at(pointer);
    if (!(target instanceof ObjectNode t)) {
      throw new IllegalArgumentException(
          "No subschema at '" + pointer + "' in the schema; check the JSON pointer.");
    }
    t.put("type", "string");
    ArrayNode values = t.putArray("enum");
    allowed.forEach(values::add);
    return new OutputSchema(copy);
  }

  /** The schema as compact JSON, for {@link GenerationRequest#withJsonSchema(String)}. */
  public String json() {
    return text;
  }

  /** A copy of the schema tree. */
  public ObjectNode tree() {
    return schema.deepCopy();
  }

  /**
   * Parses {@code output} as one JSON value and validates it.
   *
   * @return the parsed value
   * @throws InvalidOutputException if it is too long, not JSON, or violates the schema; the message
   *     lists the violations
   */
  public JsonNode parseAndValidate(String output) throws InvalidOutputException {
    Objects.requireNonNull(output, "output");
    if (output.length() > MAX_OUTPUT_CHARS) {
      throw new InvalidOutputException(
          "Model output of " + output.length() + " characters exceeds " + MAX_OUTPUT_CHARS,
          List.of("too long"));
    }
    JsonNode value;
    try {
      value = MAPPER.readTree(output);
    } catch (JsonProcessingException e) {
      String why = e.getOriginalMessage();
      throw new InvalidOutputException(
          "Model output is not valid JSON (" + why + "): " + excerpt(output), List.of(why));
    }
    if (value == null || value.isMissingNode()) {
      throw new InvalidOutputException("Model output is empty", List.of("empty"));
    }
    validate(value);
    return value;
  }

  /**
   * Validates an already parsed value.
   *
   * @throws InvalidOutputException naming every violation
   */
  public void validate(JsonNode value) throws InvalidOutputException {
    Set<ValidationMessage> messages = compiled.validate(value);
    if (!messages.isEmpty()) {
      List<String> violations = new ArrayList<>();
      for (ValidationMessage m : messages) {
        violations.add(m.getMessage());
      }
      violations.sort(null);
      throw new InvalidOutputException(
          "Model output violates its JSON schema: " + String.join("; ", violations), violations);
    }
  }

  private static String excerpt(String s) {
    String oneLine = s.replaceAll("\\s+", " ");
    return oneLine.length() <= 120 ? "'" + oneLine + "'" : "'" + oneLine.substring(0, 120) + "...'";
  }

  private static void requireLocalRefs(JsonNode node) {
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        if (e.getKey().equals("$ref")
            && !(e.getValue().isTextual() && e.getValue().textValue().startsWith("#"))) {
          throw new IllegalArgumentException(
              "Only local $ref (starting with '#') is allowed in an output schema, found "
                  + e.getValue()
                  + ". Inline the referenced schema.");
        }
        requireLocalRefs(e.getValue());
      }
    } else if (node.isArray()) {
      for (JsonNode child : node) {
        requireLocalRefs(child);
      }
    }
  }
}
