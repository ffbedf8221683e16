package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;

/**
 * The controller has stored every journal entry of {@code nodeId} up to and including {@code
 * upToSeq}; published retained (QoS 1) on {@code edge/v1/{site}/{node}/journal/ack} so a node that
 * reconnects learns where to resume its replay. The node may then compact entries at or below it.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param nodeId the node
 * @param upToSeq highest contiguous sequence number stored (0: none)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JournalAck(
    @JsonProperty(required = true) int schemaVersion,
    String nodeId,
    @JsonProperty(required = true) long upToSeq) {

  public JournalAck {
    Checks.schemaVersion("JournalAck", schemaVersion, Protocol.SCHEMA_VERSION);
    Topics.requireId("node", nodeId);
    Checks.range("upToSeq", upToSeq, 0, Long.MAX_VALUE);
  }
}
