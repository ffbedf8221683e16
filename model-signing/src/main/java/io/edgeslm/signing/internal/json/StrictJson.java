package io.edgeslm.signing.internal.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.signing.MalformedInputException;
import java.io.IOException;
import java.util.Optional;

/**
 * JSON for untrusted documents: duplicate keys, trailing content, deep nesting and oversized
 * numbers are refused (a duplicate key is how two parsers are made to read different documents).
 * Field accessors throw {@link MalformedInputException} naming the document and the JSON path.
 */
public final class StrictJson {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(32)
                          .maxNumberLength(40)
                          .maxStringLength(8 * 1024 * 1024)
                          .build())
                  .build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .build();

  private StrictJson() {}

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Parses a JSON object. */
  public static ObjectNode parseObject(byte[] bytes, String source) throws MalformedInputException {
    JsonNode node;
    try {
      node = MAPPER.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw new MalformedInputException(
          source + " is not valid JSON (" + e.getOriginalMessage() + "). " + nextStep(source), e);
    } catch (IOException e) {
      throw new MalformedInputException(source + " cannot be parsed: " + e.getMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new MalformedInputException(
          source + " must hold a JSON object, found " + describe(node) + ". " + nextStep(source));
    }
    return (ObjectNode) node;
  }

  public static byte[] write(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize JSON tree", e);
    }
  }

  public static ObjectNode object(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || !n.isObject()) {
      throw missing(where, field, "an object", n);
    }
    return (ObjectNode) n;
  }

  public static Optional<ObjectNode> optObject(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    if (!n.isObject()) {
      throw missing(where, field, "an object", n);
    }
    return Optional.of((ObjectNode) n);
  }

  public static ArrayNode array(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || !n.isArray()) {
      throw missing(where, field, "an array", n);
    }
    return (ArrayNode) n;
  }

  public static Optional<ArrayNode> optArray(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    if (!n.isArray()) {
      throw missing(where, field, "an array", n);
    }
    return Optional.of((ArrayNode) n);
  }

  public static String text(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || !n.isTextual()) {
      throw missing(where, field, "a string", n);
    }
    return n.textValue();
  }

  public static Optional<String> optText(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    if (!n.isTextual()) {
      throw missing(where, field, "a string", n);
    }
    return Optional.of(n.textValue());
  }

  public static long integer(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
      throw missing(where, field, "an integer", n);
    }
    return n.longValue();
  }

  public static Optional<Long> optInteger(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    return Optional.of(integer(parent, field, where));
  }

  public static boolean bool(JsonNode parent, String field, String where)
      throws MalformedInputException {
    JsonNode n = parent.get(field);
    if (n == null || !n.isBoolean()) {
      throw missing(where, field, "a boolean", n);
    }
    return n.booleanValue();
  }

  private static MalformedInputException missing(
      String where, String field, String expected, JsonNode found) {
    return new MalformedInputException(
        where
            + "."
            + field
            + " must be "
            + expected
            + ", found "
            + describe(found)
            + ". The document does not follow its format; regenerate it with this tool.");
  }

  public static String describe(JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return "nothing";
    }
    if (n.isNull()) {
      return "null";
    }
    if (n.isTextual()) {
      String t = n.textValue();
      return "\"" + (t.length() > 80 ? t.substring(0, 80) + "…" : t) + "\"";
    }
    return n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
  }

  private static String nextStep(String source) {
    return "Re-copy " + source + " or regenerate it with this tool.";
  }
}
