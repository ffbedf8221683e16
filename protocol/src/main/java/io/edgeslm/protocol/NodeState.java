package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Presence of a node as its retained status message states it. */
public enum NodeState {
  /** Connected; published retained right after connect. */
  @JsonProperty("online")
  ONLINE,
  /** Gone; the delayed last will, or published retained on a clean shutdown. */
  @JsonProperty("offline")
  OFFLINE
}
