package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where an update stands, in {@link UpdateProgress}. */
public enum UpdatePhase {
  /** Pulling chunks. */
  @JsonProperty("downloading")
  DOWNLOADING,
  /** Checking the assembled bundle's signature, trust chain and release policy. */
  @JsonProperty("verifying")
  VERIFYING,
  /** Starting the new model in a fresh worker and running its activation check. */
  @JsonProperty("activating")
  ACTIVATING,
  /** Serving with the new model while health is watched; a failure rolls back. */
  @JsonProperty("soaking")
  SOAKING
}
