package io.edgeslm.signing;

import java.util.Objects;

/**
 * A verified, trusted release that this node must not activate now. {@link #reason()} says which
 * rule refused it, for the agent's update journal and the controller; the message says it for a
 * person.
 */
public final class PolicyException extends SigningException {

  /** The release-policy rule that refused the bundle. */
  public enum Reason {
    /** The bundle carries no signed {@code release.json}. */
    NO_RELEASE_METADATA,
    /** The release names a model file or evaluation file that is not a signed resource. */
    MISSING_RELEASE_FILE,
    /** The node is not assigned this model (wrong software, attack A2). */
    WRONG_MODEL,
    /** The node follows another channel for this model (A2). */
    WRONG_CHANNEL,
    /** The node's CPU architecture is not targeted (A2). */
    WRONG_ARCHITECTURE,
    /** The node's device class is not targeted (A2). */
    WRONG_DEVICE_CLASS,
    /** The node has less RAM than the release needs (A2). */
    INSUFFICIENT_RAM,
    /** A target label is missing or has another value on the node (A2). */
    LABEL_MISMATCH,
    /** The agent is older than the release's minimum agent version. */
    AGENT_TOO_OLD,
    /** The release metadata has expired (indefinite freeze, A5). */
    EXPIRED,
    /** The version is at or below the installed high-water mark (rollback, A3). */
    ROLLBACK
  }

  private final Reason reason;

  public PolicyException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** The rule that refused the bundle. */
  public Reason reason() {
    return reason;
  }
}
