package io.edgeslm.inference;

import java.time.Instant;
import java.util.Objects;

/**
 * Engine state for health checks.
 *
 * @param state the state
 * @param detail a sentence for operators (why it is not ready, what happens next)
 * @param since when the engine entered this state
 */
public record EngineHealth(State state, String detail, Instant since) {

  /** Engine life cycle. */
  public enum State {
    /** Starting the worker or loading the model; not serving yet. */
    STARTING,
    /** Serving requests. */
    READY,
    /** The worker died or hung; a new one is being started after a backoff. */
    RESTARTING,
    /** Restarts were exhausted or the model cannot load; needs an operator. */
    FAILED,
    /** Closed on request. */
    CLOSED
  }

  public EngineHealth {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(since, "since");
  }

  public boolean isReady() {
    return state == State.READY;
  }
}
