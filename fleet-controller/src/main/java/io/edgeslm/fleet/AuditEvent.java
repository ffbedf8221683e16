package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.time.Instant;

/**
 * One audited transition of a rollout: who, when, what and why.
 *
 * @param rolloutId the rollout
 * @param at when
 * @param actor the operator's token name, or {@code controller} for automatic transitions
 * @param action what happened, e.g. {@code wave-started}, {@code paused}, {@code gate-failed}
 * @param detail why, for people
 */
public record AuditEvent(String rolloutId, Instant at, String actor, String action, String detail) {

  /** The actor of automatic transitions. */
  public static final String CONTROLLER = "controller";

  public AuditEvent {
    Checks.required("rolloutId", rolloutId);
    Checks.required("at", at);
    Checks.text("actor", actor, 128);
    Checks.text("action", action, 64);
    Checks.required("detail", detail);
  }
}
