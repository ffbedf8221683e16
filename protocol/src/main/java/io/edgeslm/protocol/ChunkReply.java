package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * A JSON message on a node's chunk reply topic: a {@link ChunkData} (the JSON fallback for MQTT
 * 3.1.1) or a {@link ChunkError}. The property {@code type} ({@code chunk} or {@code error}) tells
 * them apart. Binary chunks (MQTT 5, user property {@code type=chunk}) are not JSON; see {@link
 * ChunkHeader}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = ChunkData.class, name = "chunk"),
  @JsonSubTypes.Type(value = ChunkError.class, name = "error")
})
public sealed interface ChunkReply permits ChunkData, ChunkError {

  /** The schema version. */
  int schemaVersion();

  /** The request this answers. */
  String requestId();
}
