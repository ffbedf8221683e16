package io.edgeslm.agent.internal.tasks;

import java.util.Objects;
import java.util.Optional;

/**
 * A task's result and, when the rules had to stand in for the model, why.
 *
 * @param value the result (always valid, whichever path produced it)
 * @param fallbackReason empty when the model produced it, or the task is rules-only; otherwise the
 *     failure that made the task fall back (busy, engine down, deadline, invalid output)
 */
public record TaskOutcome<T>(T value, Optional<String> fallbackReason) {
  public TaskOutcome {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(fallbackReason, "fallbackReason");
  }

  public boolean fellBack() {
    return fallbackReason.isPresent();
  }
}
