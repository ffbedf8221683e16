package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.util.List;

/**
 * Journal entries on {@code edge/v1/{site}/{node}/journal} (QoS 1): the node publishes each new
 * entry, and after every reconnect replays, in order, every entry above the last {@link
 * JournalAck}. The controller merges idempotently on (node id, seq) and then acknowledges.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param nodeId the node; must match the topic's node level (the controller checks)
 * @param entries 1 to {@value #MAX_ENTRIES} entries with strictly increasing {@code seq}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JournalBatch(
    @JsonProperty(required = true) int schemaVersion, String nodeId, List<JournalEntry> entries) {

  /** Most entries per batch. */
  public static final int MAX_ENTRIES = 256;

  public JournalBatch {
    Checks.schemaVersion("JournalBatch", schemaVersion, Protocol.SCHEMA_VERSION);
    Topics.requireId("node", nodeId);
    entries = Checks.nonEmptyList("entries", entries, MAX_ENTRIES);
    for (int i = 1; i < entries.size(); i++) {
      long previous = entries.get(i - 1).seq();
      long current = entries.get(i).seq();
      Checks.check(
          current > previous,
          "entries must have strictly increasing seq: entries["
              + i
              + "].seq="
              + current
              + " follows "
              + previous
              + ". Send entries in journal order, each once.");
    }
  }

  /** Sequence number of the last entry. */
  public long lastSeq() {
    return entries.getLast().seq();
  }
}
