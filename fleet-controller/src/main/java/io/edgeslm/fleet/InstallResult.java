package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.time.Instant;

/**
 * A node's final result for one assignment.
 *
 * @param success whether it installed and activated the bundle
 * @param at when the node reported it
 * @param reason for a failure, the node's reason; may be null on success
 */
public record InstallResult(boolean success, Instant at, String reason) {

  public InstallResult {
    Checks.required("at", at);
  }
}
