package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.time.Instant;

/**
 * One node in a rollout.
 *
 * @param nodeId the node
 * @param site its site
 * @param wave index of the wave that assigned it
 * @param phase where it is
 * @param assignedAt when the assignment was sent
 * @param resultAt when the install result arrived (or the timeout struck); null before
 * @param previousDigest the model digest it served before, or null (rules only)
 * @param reason why it failed, for people; null otherwise
 */
public record Target(
    String nodeId,
    String site,
    int wave,
    TargetPhase phase,
    Instant assignedAt,
    Instant resultAt,
    String previousDigest,
    String reason) {

  public Target {
    Checks.identifier("nodeId", nodeId, 64);
    Checks.identifier("site", site, 64);
    Checks.range("wave", wave, 0, RolloutPlan.MAX_WAVES);
    Checks.required("phase", phase);
    Checks.required("assignedAt", assignedAt);
  }

  Target with(TargetPhase newPhase, Instant at, String why) {
    return new Target(nodeId, site, wave, newPhase, assignedAt, at, previousDigest, why);
  }
}
