package io.edgeslm.fleet;

import java.util.List;

/**
 * The result of one engine call: the next state, the messages to send once it is stored, and the
 * audit entries to store with it.
 *
 * @param state the next state (the same object when nothing changed)
 * @param actions messages for nodes, in order
 * @param audit transitions, in order
 */
public record RolloutStep(RolloutState state, List<RolloutAction> actions, List<AuditEvent> audit) {

  public RolloutStep {
    actions = List.copyOf(actions);
    audit = List.copyOf(audit);
  }

  /** Whether the state changed (and must be stored). */
  public boolean changed(RolloutState before) {
    return state != before;
  }
}
