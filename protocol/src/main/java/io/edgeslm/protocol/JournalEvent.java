package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What a {@link JournalEntry} records. */
public enum JournalEvent {
  /** An assignment was accepted for download. */
  @JsonProperty("assigned")
  ASSIGNED,
  /** The download started, or resumed after a restart. */
  @JsonProperty("download_started")
  DOWNLOAD_STARTED,
  /** Every chunk is present and matches its hash. */
  @JsonProperty("downloaded")
  DOWNLOADED,
  /** The bundle passed signature, trust and policy checks. */
  @JsonProperty("verified")
  VERIFIED,
  /** The bundle was refused. */
  @JsonProperty("rejected")
  REJECTED,
  /** The new model serves traffic. */
  @JsonProperty("activated")
  ACTIVATED,
  /** The node went back to the previous model. */
  @JsonProperty("rolled_back")
  ROLLED_BACK,
  /** An assignment was cancelled. */
  @JsonProperty("cancelled")
  CANCELLED,
  /** A command arrived (its outcome follows as another entry). */
  @JsonProperty("command_received")
  COMMAND_RECEIVED
}
