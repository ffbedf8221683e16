package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.util.Base64;
import java.util.BitSet;

/**
 * The node asks the controller for chunks of one file of an assignment, on the assignment's {@code
 * requestTopic}. It names the chunks either as a range ({@code first}, {@code count}) or as a
 * {@code bitmap} of the chunks it still misses; either way at most {@value #MAX_CHUNKS_PER_REQUEST}
 * chunks, so the node bounds what is in flight. The controller answers each wanted chunk on {@code
 * replyTo} (see {@link ChunkHeader}) or sends one {@link ChunkError}.
 *
 * <p>Bitmap encoding: base64 (RFC 4648, with padding) of bytes where bit {@code i % 8} (least
 * significant first) of byte {@code i / 8} set means "send chunk {@code i}" — the layout of {@link
 * BitSet#toByteArray()}.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param requestId node-chosen id echoed in every answer
 * @param assignmentId the assignment
 * @param file the file's name as listed in the assignment
 * @param first first chunk index of a range; with {@code count}, without {@code bitmap}
 * @param count number of chunks of a range, 1 to {@value #MAX_CHUNKS_PER_REQUEST}
 * @param bitmap wanted chunks; without {@code first}/{@code count}
 * @param replyTo where the controller publishes the chunks, normally the node's {@code
 *     update/chunk} topic
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChunkRequest(
    @JsonProperty(required = true) int schemaVersion,
    String requestId,
    String assignmentId,
    String file,
    Integer first,
    Integer count,
    String bitmap,
    String replyTo) {

  /** Most chunks one request may ask for. */
  public static final int MAX_CHUNKS_PER_REQUEST = 64;

  /** Longest decoded bitmap: one bit per chunk of the largest file. */
  public static final int MAX_BITMAP_BYTES = BundleFile.MAX_CHUNKS / 8;

  public ChunkRequest {
    Checks.schemaVersion("ChunkRequest", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.identifier("requestId", requestId, 128);
    Checks.identifier("assignmentId", assignmentId, 128);
    Checks.bundlePath("file", file);
    boolean range = first != null || count != null;
    Checks.check(
        range != (bitmap != null),
        "a chunk request names its chunks either by first+count or by bitmap: got "
            + (range ? "both" : "neither")
            + ". Send one of the two.");
    if (range) {
      Checks.required("first", first);
      Checks.required("count", count);
      Checks.range("first", first, 0, BundleFile.MAX_CHUNKS - 1);
      Checks.range("count", count, 1, MAX_CHUNKS_PER_REQUEST);
    } else {
      int wanted = decode(bitmap).cardinality();
      Checks.check(
          wanted >= 1 && wanted <= MAX_CHUNKS_PER_REQUEST,
          "bitmap must mark 1 to "
              + MAX_CHUNKS_PER_REQUEST
              + " chunks: got "
              + wanted
              + ". Ask for the missing chunks in windows of at most "
              + MAX_CHUNKS_PER_REQUEST
              + ".");
    }
    Checks.publishTopic("replyTo", replyTo);
  }

  /** A request for chunks {@code first} to {@code first + count - 1}. */
  public static ChunkRequest range(
      String requestId, String assignmentId, String file, int first, int count, String replyTo) {
    return new ChunkRequest(
        Protocol.SCHEMA_VERSION, requestId, assignmentId, file, first, count, null, replyTo);
  }

  /** A request for the chunks set in {@code wanted}. */
  public static ChunkRequest bitmap(
      String requestId, String assignmentId, String file, BitSet wanted, String replyTo) {
    String encoded = Base64.getEncoder().encodeToString(wanted.toByteArray());
    return new ChunkRequest(
        Protocol.SCHEMA_VERSION, requestId, assignmentId, file, null, null, encoded, replyTo);
  }

  /**
   * The next window to ask for: the lowest {@value #MAX_CHUNKS_PER_REQUEST} (at most) chunks set in
   * {@code missing}, for {@link #bitmap}. Empty when nothing is missing.
   */
  public static BitSet window(BitSet missing) {
    Checks.required("missing", missing);
    BitSet window = new BitSet();
    int taken = 0;
    for (int i = missing.nextSetBit(0);
        i >= 0 && taken < MAX_CHUNKS_PER_REQUEST;
        i = missing.nextSetBit(i + 1)) {
      window.set(i);
      taken++;
    }
    return window;
  }

  /** The wanted chunk indexes, whichever form the request used. */
  public BitSet wanted() {
    if (bitmap != null) {
      return decode(bitmap);
    }
    BitSet set = new BitSet(first + count);
    set.set(first, first + count);
    return set;
  }

  private static BitSet decode(String bitmap) {
    Checks.check(
        bitmap.length() <= (MAX_BITMAP_BYTES + 2) / 3 * 4,
        "bitmap must decode to at most "
            + MAX_BITMAP_BYTES
            + " bytes: got "
            + bitmap.length()
            + " base64 characters. Request fewer chunks.");
    try {
      return BitSet.valueOf(Base64.getDecoder().decode(bitmap));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "bitmap must be standard base64: got "
              + Checks.quote(bitmap)
              + " ("
              + e.getMessage()
              + "). Encode BitSet.toByteArray() with RFC 4648 base64.",
          e);
    }
  }
}
