package io.edgeslm.protocol;

import io.edgeslm.protocol.internal.check.Checks;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Metadata of a binary chunk: the controller publishes the chunk's raw bytes as the MQTT 5 payload
 * (content type {@value #CONTENT_TYPE}) on the request's {@code replyTo}, with this header as User
 * Properties. Raw bytes avoid base64's third more bytes and a JSON parse of megabytes; MQTT 3.1.1
 * nodes, which have no user properties, get a {@link ChunkData} JSON message instead.
 *
 * <p>User properties, all strings: {@code edgeslm-schema}, {@code type} ({@code chunk}), {@code
 * request-id}, {@code assignment-id}, {@code file}, {@code index}, {@code offset}.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param requestId the {@link ChunkRequest}'s id
 * @param assignmentId the assignment
 * @param file the file's name
 * @param index chunk index within the file
 * @param offset byte offset of the chunk in the file ({@code index * chunkBytes})
 */
public record ChunkHeader(
    int schemaVersion, String requestId, String assignmentId, String file, int index, long offset) {

  /** MQTT 5 content type of a binary chunk. */
  public static final String CONTENT_TYPE = "application/octet-stream";

  /** User property naming the schema version. */
  public static final String SCHEMA = "edgeslm-schema";

  /** User property naming the message type; {@value #TYPE_CHUNK} for a binary chunk. */
  public static final String TYPE = "type";

  /** Value of {@link #TYPE} for a binary chunk. */
  public static final String TYPE_CHUNK = "chunk";

  public static final String REQUEST_ID = "request-id";
  public static final String ASSIGNMENT_ID = "assignment-id";
  public static final String FILE = "file";
  public static final String INDEX = "index";
  public static final String OFFSET = "offset";

  public ChunkHeader {
    Checks.schemaVersion("ChunkHeader", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.identifier("requestId", requestId, 128);
    Checks.identifier("assignmentId", assignmentId, 128);
    Checks.bundlePath("file", file);
    Checks.range("index", index, 0, BundleFile.MAX_CHUNKS - 1);
    Checks.range("offset", offset, 0, Long.MAX_VALUE);
  }

  /** A current-version header. */
  public static ChunkHeader of(
      String requestId, String assignmentId, String file, int index, long offset) {
    return new ChunkHeader(Protocol.SCHEMA_VERSION, requestId, assignmentId, file, index, offset);
  }

  /** The MQTT 5 user properties, in a stable order. */
  public SequencedMap<String, String> toUserProperties() {
    LinkedHashMap<String, String> p = new LinkedHashMap<>();
    p.put(SCHEMA, Integer.toString(schemaVersion));
    p.put(TYPE, TYPE_CHUNK);
    p.put(REQUEST_ID, requestId);
    p.put(ASSIGNMENT_ID, assignmentId);
    p.put(FILE, file);
    p.put(INDEX, Integer.toString(index));
    p.put(OFFSET, Long.toString(offset));
    return p;
  }

  /**
   * Reads the header from received user properties (other properties are ignored).
   *
   * @throws InvalidPayloadException ({@code invalid}, or {@code unsupported_version}) naming the
   *     missing or bad property
   */
  public static ChunkHeader fromUserProperties(Map<String, String> properties)
      throws InvalidPayloadException {
    try {
      Checks.required("user properties", properties);
      int version = (int) number(properties, SCHEMA);
      if (version > Protocol.SCHEMA_VERSION) {
        throw new InvalidPayloadException(
            ErrorCode.UNSUPPORTED_VERSION,
            "ChunkHeader: "
                + SCHEMA
                + " "
                + version
                + " is newer than this reader's "
                + Protocol.SCHEMA_VERSION
                + ". Upgrade the node agent.",
            null);
      }
      String type = property(properties, TYPE);
      Checks.check(
          TYPE_CHUNK.equals(type),
          "user property "
              + TYPE
              + " must be '"
              + TYPE_CHUNK
              + "': got "
              + Checks.quote(type)
              + ". Send binary chunks with type=chunk.");
      return new ChunkHeader(
          version,
          property(properties, REQUEST_ID),
          property(properties, ASSIGNMENT_ID),
          property(properties, FILE),
          Math.toIntExact(number(properties, INDEX)),
          number(properties, OFFSET));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new InvalidPayloadException(ErrorCode.INVALID, "ChunkHeader: " + e.getMessage(), e);
    }
  }

  private static String property(Map<String, String> properties, String name) {
    String value = properties.get(name);
    if (value == null) {
      throw new IllegalArgumentException(
          "user property " + name + " is required but missing. Set it on the chunk message.");
    }
    return value;
  }

  private static long number(Map<String, String> properties, String name) {
    String value = property(properties, name);
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "user property "
              + name
              + " must be a decimal integer: got "
              + Checks.quote(value)
              + ". Write it as digits.",
          e);
    }
  }
}
