package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The outcome an {@link UpdateResult} reports. */
public enum UpdateOutcome {
  /** Downloaded and verified (signature, trust, policy); activation follows. */
  @JsonProperty("verified")
  VERIFIED,
  /** Serving traffic after passing its activation check and soak. */
  @JsonProperty("activated")
  ACTIVATED,
  /** Refused before activation (bad signature, policy, target, digest, ...); needs a reason. */
  @JsonProperty("rejected")
  REJECTED,
  /** Back on the previous model (failed check, soak or an operator command); needs a reason. */
  @JsonProperty("rolled_back")
  ROLLED_BACK,
  /** Stopped by a cancel command before activation. */
  @JsonProperty("cancelled")
  CANCELLED;

  /** Whether a result with this outcome must say why. */
  public boolean needsReason() {
    return this == REJECTED || this == ROLLED_BACK;
  }
}
