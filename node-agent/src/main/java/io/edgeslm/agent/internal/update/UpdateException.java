package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.AgentException;
import io.edgeslm.protocol.ReasonCode;
import java.util.Objects;

/**
 * An update step failed. {@link #reasonCode()} is the stable code reported in {@code UpdateResult}
 * and the USB result file; {@link #fault()} says who must act.
 */
public final class UpdateException extends AgentException {

  private static final long serialVersionUID = 1L;

  /** Who is at fault. */
  public enum Fault {
    /** The bundle or assignment: wrong, tampered, expired, not for this node. */
    ARTIFACT,
    /** The transfer: broker, controller or stick went away or stalled. */
    TRANSFER,
    /** This node: disk full, store unwritable. */
    LOCAL,
    /** The new model: failed to load, failed its activation check or its soak. */
    MODEL
  }

  private final Fault fault;
  private final ReasonCode reasonCode;

  public UpdateException(Fault fault, ReasonCode reasonCode, String message, Throwable cause) {
    super(message, cause);
    this.fault = Objects.requireNonNull(fault, "fault");
    this.reasonCode = Objects.requireNonNull(reasonCode, "reasonCode");
  }

  public UpdateException(Fault fault, ReasonCode reasonCode, String message) {
    this(fault, reasonCode, message, null);
  }

  public Fault fault() {
    return fault;
  }

  public ReasonCode reasonCode() {
    return reasonCode;
  }
}
