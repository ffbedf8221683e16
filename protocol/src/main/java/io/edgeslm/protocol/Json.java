package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.cfg.MutableCoercionConfig;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.deser.InstantDeserializer;
import io.edgeslm.protocol.internal.check.Checks;
import io.edgeslm.protocol.internal.json.JavaTimeOnDemand;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;

/**
 * The one JSON configuration for every wire type: {@link java.time.Instant} as ISO-8601 strings,
 * null fields left out, unknown fields ignored, trailing garbage refused, nesting bounded.
 *
 * <p>{@link #read(byte[], Class, int)} is the entry point for untrusted bytes: it refuses a payload
 * over the size limit before parsing, checks UTF-8, refuses a {@code schemaVersion} newer than
 * {@link Protocol#SCHEMA_VERSION}, and turns every failure into an {@link InvalidPayloadException}
 * with the matching {@link ErrorCode}.
 */
public final class Json {

  /** Size limit of {@link #read(byte[], Class)}: 1 MiB. */
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1 << 20;

  /** Deepest JSON nesting accepted; our messages need fewer than 8 levels. */
  public static final int MAX_NESTING_DEPTH = 32;

  private static final CoercionInputShape STRING = CoercionInputShape.String;
  private static final CoercionInputShape INTEGER = CoercionInputShape.Integer;
  private static final CoercionInputShape FLOAT = CoercionInputShape.Float;
  private static final CoercionInputShape BOOLEAN = CoercionInputShape.Boolean;

  /** Reads an {@link Instant} only from a JSON string, refusing epoch numbers. */
  private static final JsonDeserializer<Instant> STRICT_INSTANT =
      new StdScalarDeserializer<>(Instant.class) {
        @Override
        public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
          if (p.hasToken(JsonToken.VALUE_STRING)) {
            return InstantDeserializer.INSTANT.deserialize(p, ctxt);
          }
          return (Instant) ctxt.handleUnexpectedToken(Instant.class, p);
        }
      };

  private static final ObjectMapper MAPPER = build();

  private Json() {}

  private static ObjectMapper build() {
    JsonMapper mapper =
        JsonMapper.builder()
            // JavaTimeModule's handling of java.time, the module built only for types other than
            // Instant (the wire records hold only Instants: JavaTimeOnDemand says why).
            .addModule(new JavaTimeOnDemand())
            // The contract's instants are ISO-8601 strings; JavaTimeModule would also take numbers.
            .addModule(
                new SimpleModule("strict-instants").addDeserializer(Instant.class, STRICT_INSTANT))
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // A concrete reply type (Answer.class) reads without the "type" property.
            .disable(MapperFeature.REQUIRE_TYPE_ID_FOR_SUBTYPES)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            // Strict typing: the contract types every field (docs/asyncapi.yaml), so a number where
            // a string is due ({"question": 42}) is refused, not silently read as "42".
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .withCoercionConfig(LogicalType.Textual, c -> refuse(c, INTEGER, FLOAT, BOOLEAN))
            .withCoercionConfig(LogicalType.Enum, c -> refuse(c, INTEGER, FLOAT, BOOLEAN))
            .withCoercionConfig(LogicalType.DateTime, c -> refuse(c, INTEGER, FLOAT, BOOLEAN))
            .withCoercionConfig(LogicalType.Integer, c -> refuse(c, STRING, FLOAT, BOOLEAN))
            // An integer is a JSON number, so it stays valid where a number is due.
            .withCoercionConfig(LogicalType.Float, c -> refuse(c, STRING, BOOLEAN))
            .withCoercionConfig(LogicalType.Boolean, c -> refuse(c, STRING, INTEGER, FLOAT))
            .build();
    mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .maxNumberLength(100)
                .build());
    return mapper;
  }

  /** Refuses reading a field of one logical type from JSON scalars of the given other shapes. */
  private static void refuse(MutableCoercionConfig config, CoercionInputShape... shapes) {
    for (CoercionInputShape shape : shapes) {
      config.setCoercion(shape, CoercionAction.Fail);
    }
  }

  /**
   * The shared mapper. It is thread-safe; do not reconfigure it (use {@code mapper().copy()} for a
   * variant). It does not bound payload size: read untrusted bytes with {@link #read}.
   */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** {@link #read(byte[], Class, int)} with {@link #DEFAULT_MAX_PAYLOAD_BYTES}. */
  public static <T> T read(byte[] payload, Class<T> type) throws InvalidPayloadException {
    return read(payload, type, DEFAULT_MAX_PAYLOAD_BYTES);
  }

  /**
   * Reads an untrusted payload as {@code type}.
   *
   * @param payload the bytes as received
   * @param type a wire record (or {@link Reply})
   * @param maxBytes refuse larger payloads without parsing them
   * @return the validated record
   * @throws InvalidPayloadException with code {@code oversized}, {@code not_utf8}, {@code
   *     malformed}, {@code unsupported_version} or {@code invalid}
   */
  public static <T> T read(byte[] payload, Class<T> type, int maxBytes)
      throws InvalidPayloadException {
    JsonNode tree = readTree(payload, type.getSimpleName(), maxBytes);
    return convert(tree, type);
  }

  /**
   * Parses an untrusted payload into a tree, with the size, UTF-8 and syntax checks of {@link
   * #read(byte[], Class, int)} (no version check).
   *
   * @param what names the expected message in error messages
   */
  public static JsonNode readTree(byte[] payload, String what, int maxBytes)
      throws InvalidPayloadException {
    if (payload == null) {
      throw new InvalidPayloadException(
          ErrorCode.MALFORMED, what + ": the payload is missing. Send a JSON document.", null);
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be at least 1: got " + maxBytes);
    }
    if (payload.length > maxBytes) {
      throw new InvalidPayloadException(
          ErrorCode.OVERSIZED,
          what
              + ": payload of "
              + payload.length
              + " bytes exceeds the limit of "
              + maxBytes
              + " bytes. Send a smaller message.",
          null);
    }
    try {
      // ASCII (the usual question, and every control message) is UTF-8 as it is: only payloads
      // with other bytes go through the decoder.
      if (!isAscii(payload)) {
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(payload));
      }
    } catch (CharacterCodingException e) {
      throw new InvalidPayloadException(
          ErrorCode.NOT_UTF8,
          what + ": the payload is not valid UTF-8. Encode the JSON as UTF-8.",
          e);
    }
    if (payload.length == 0) {
      throw new InvalidPayloadException(
          ErrorCode.MALFORMED, what + ": the payload is empty. Send a JSON document.", null);
    }
    try {
      return MAPPER.readTree(payload);
    } catch (StreamReadException e) {
      throw new InvalidPayloadException(
          ErrorCode.MALFORMED,
          what + ": the payload is not well-formed JSON (" + e.getOriginalMessage() + "). Fix it.",
          e);
    } catch (IOException e) {
      throw new InvalidPayloadException(
          ErrorCode.MALFORMED,
          what + ": the payload could not be parsed (" + e.getMessage() + "). Send valid JSON.",
          e);
    }
  }

  private static boolean isAscii(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Converts a parsed tree to {@code type}, refusing a newer {@code schemaVersion} and turning
   * field-rule violations into {@link ErrorCode#INVALID}.
   */
  public static <T> T convert(JsonNode tree, Class<T> type) throws InvalidPayloadException {
    String what = type.getSimpleName();
    JsonNode version = tree.get("schemaVersion");
    if (version != null
        && version.isIntegralNumber()
        && version.canConvertToLong()
        && version.asLong() > Protocol.SCHEMA_VERSION) {
      throw new InvalidPayloadException(
          ErrorCode.UNSUPPORTED_VERSION,
          what
              + ": schemaVersion "
              + version.asLong()
              + " is newer than this reader's "
              + Protocol.SCHEMA_VERSION
              + ". Upgrade the receiver or send schemaVersion "
              + Protocol.SCHEMA_VERSION
              + ".",
          null);
    }
    try {
      T value = MAPPER.treeToValue(tree, type);
      if (value == null) {
        throw new InvalidPayloadException(
            ErrorCode.INVALID, what + ": the payload is JSON null. Send a JSON object.", null);
      }
      return value;
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause();
      String detail =
          cause instanceof IllegalArgumentException ? cause.getMessage() : e.getOriginalMessage();
      throw new InvalidPayloadException(ErrorCode.INVALID, what + ": " + detail, e);
    } catch (MismatchedInputException e) {
      throw new InvalidPayloadException(ErrorCode.INVALID, what + ": " + describe(e, tree), e);
    } catch (JsonProcessingException e) {
      throw new InvalidPayloadException(
          ErrorCode.INVALID,
          what + ": " + e.getOriginalMessage() + ". Check the message against docs/asyncapi.yaml.",
          e);
    } catch (IllegalArgumentException e) {
      throw new InvalidPayloadException(ErrorCode.INVALID, what + ": " + e.getMessage(), e);
    }
  }

  private static String describe(MismatchedInputException e, JsonNode tree) {
    StringBuilder path = new StringBuilder();
    JsonNode found = tree;
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        path.append(path.isEmpty() ? "" : ".").append(ref.getFieldName());
        found = found == null ? null : found.get(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
        found = found == null ? null : found.get(ref.getIndex());
      }
    }
    String field = path.isEmpty() ? "the message" : path.toString();
    String original = String.valueOf(e.getOriginalMessage());
    if (original.startsWith("Cannot map `null`")
        || original.startsWith("Missing required creator property")) {
      return field + " is required but missing or null. Set " + field + ".";
    }
    if (e instanceof InvalidTypeIdException) {
      return "type must be one of the documented message types: "
          + original
          + ". See docs/asyncapi.yaml.";
    }
    Optional<String> expected = jsonType(e.getTargetType());
    Optional<String> actual = Optional.ofNullable(found).map(Json::jsonType);
    if (expected.isPresent()
        && actual.isPresent()
        && !actual.get().equals(expected.get())
        && !(expected.get().equals("number") && actual.get().equals("integer"))) {
      // The value itself is not echoed: it is untrusted and may be large.
      return field
          + " must be a JSON "
          + expected.get()
          + " but is "
          + article(actual.get())
          + ". Send "
          + field
          + " as a JSON "
          + expected.get()
          + ", as docs/asyncapi.yaml types it.";
    }
    String expectedName =
        e.getTargetType() == null ? "another type" : e.getTargetType().getSimpleName();
    return field
        + " has the wrong type or value (expected "
        + expectedName
        + "): "
        + original
        + ". Check "
        + field
        + " against docs/asyncapi.yaml.";
  }

  /** The JSON type the contract gives a Java field type, if it is a plain one. */
  private static Optional<String> jsonType(Class<?> target) {
    if (target == null) {
      return Optional.empty();
    }
    if (target == String.class
        || target.isEnum()
        || java.time.temporal.Temporal.class.isAssignableFrom(target)
        || target == java.time.Duration.class) {
      return Optional.of("string");
    }
    if (target == Integer.class
        || target == int.class
        || target == Long.class
        || target == long.class
        || target == Short.class
        || target == short.class
        || target == java.math.BigInteger.class) {
      return Optional.of("integer");
    }
    if (target == Double.class
        || target == double.class
        || target == Float.class
        || target == float.class
        || target == java.math.BigDecimal.class) {
      return Optional.of("number");
    }
    if (target == Boolean.class || target == boolean.class) {
      return Optional.of("boolean");
    }
    if (target.isArray() || java.util.Collection.class.isAssignableFrom(target)) {
      return Optional.of("array");
    }
    if (target.isRecord() || java.util.Map.class.isAssignableFrom(target)) {
      return Optional.of("object");
    }
    return Optional.empty();
  }

  /** The JSON type of a parsed value, in the contract's words. */
  private static String jsonType(JsonNode node) {
    return switch (node.getNodeType()) {
      case STRING -> "string";
      case NUMBER -> node.isIntegralNumber() ? "integer" : "number";
      case BOOLEAN -> "boolean";
      case ARRAY -> "array";
      case OBJECT, POJO -> "object";
      case NULL, MISSING -> "null";
      case BINARY -> "string";
    };
  }

  private static String article(String jsonType) {
    return switch (jsonType) {
      case "integer", "array", "object" -> "an " + jsonType;
      case "number" -> "a fractional number";
      case "null" -> "null";
      default -> "a " + jsonType;
    };
  }

  /** Serializes a wire record to UTF-8 JSON. */
  public static byte[] write(Object value) {
    if (value instanceof AnswerPart p) {
      return writePart(p);
    }
    try {
      return MAPPER.writeValueAsBytes(Checks.required("value", value));
    } catch (JsonProcessingException e) {
      // Our records hold only strings, numbers, instants, enums and lists of records.
      throw new IllegalStateException(
          "Could not serialize " + value.getClass().getName() + ": " + e.getOriginalMessage(), e);
    }
  }

  /**
   * An {@link AnswerPart} written field by field on the mapper's own generator: the same bytes as
   * the mapper writes (type first, then the record's components in order, a null id left out, the
   * same escapes), without databind's serializer lookup and type-id wrapping. A part goes out for
   * every streamed token, on the path to the operator's first token, where that machinery ran
   * interpreted and took about 0.2 ms (docs/benchmarks.md, "Node agent").
   */
  private static byte[] writePart(AnswerPart p) {
    java.io.ByteArrayOutputStream out =
        new java.io.ByteArrayOutputStream(64 + p.text().length() + (p.text().length() >> 1));
    try (com.fasterxml.jackson.core.JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("type", "part");
      g.writeNumberField("schemaVersion", p.schemaVersion());
      if (p.id() != null) {
        g.writeStringField("id", p.id());
      }
      g.writeNumberField("seq", p.seq());
      g.writeStringField("text", p.text());
      g.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException("Could not serialize an AnswerPart: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  /** Serializes a wire record to a JSON string. */
  public static String writeString(Object value) {
    return new String(write(value), StandardCharsets.UTF_8);
  }
}
