package io.edgeslm.inference;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What a model swap did.
 *
 * @param mode the mode actually used (never {@link SwapMode#AUTO})
 * @param reason why that mode (memory figures for AUTO)
 * @param activation the activation check's report, if a check was run
 * @param took time from the start of the swap until traffic went to the new model
 */
public record SwapReport(
    SwapMode mode, String reason, Optional<ActivationReport> activation, Duration took) {

  public SwapReport {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(activation, "activation");
    Objects.requireNonNull(took, "took");
    if (mode == SwapMode.AUTO) {
      throw new IllegalArgumentException("A swap report names the mode used, not AUTO");
    }
  }
}
