package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A chunk as JSON ({@code "type":"chunk"}), for nodes on MQTT 3.1.1; {@code data} is base64 (RFC
 * 4648, padded). MQTT 5 nodes get the same chunk as raw bytes with a {@link ChunkHeader}.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param requestId the {@link ChunkRequest}'s id
 * @param assignmentId the assignment
 * @param file the file's name
 * @param index chunk index within the file
 * @param offset byte offset of the chunk in the file
 * @param data the chunk's bytes, 1 to {@link UpdateAssignment#MAX_CHUNK_BYTES}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChunkData(
    @JsonProperty(required = true) int schemaVersion,
    String requestId,
    String assignmentId,
    String file,
    @JsonProperty(required = true) int index,
    @JsonProperty(required = true) long offset,
    byte[] data)
    implements ChunkReply {

  public ChunkData {
    new ChunkHeader(schemaVersion, requestId, assignmentId, file, index, offset);
    Checks.required("data", data);
    Checks.range("data length", data.length, 1, UpdateAssignment.MAX_CHUNK_BYTES);
    data = data.clone();
  }

  /** The chunk's bytes (a copy). */
  @Override
  public byte[] data() {
    return data.clone();
  }

  /** The same metadata as a binary chunk would carry. */
  public ChunkHeader header() {
    return new ChunkHeader(schemaVersion, requestId, assignmentId, file, index, offset);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChunkData c
        && schemaVersion == c.schemaVersion
        && requestId.equals(c.requestId)
        && assignmentId.equals(c.assignmentId)
        && file.equals(c.file)
        && index == c.index
        && offset == c.offset
        && Arrays.equals(data, c.data);
  }

  @Override
  public int hashCode() {
    return 31 * header().hashCode() + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    int shown = Math.min(data.length, 8);
    return "ChunkData["
        + header()
        + ", "
        + data.length
        + " bytes starting "
        + HexFormat.of().formatHex(data, 0, shown)
        + "]";
  }
}
