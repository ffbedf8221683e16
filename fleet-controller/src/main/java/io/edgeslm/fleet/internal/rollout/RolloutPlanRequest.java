package io.edgeslm.fleet.internal.rollout;

import io.edgeslm.fleet.HealthGate;
import io.edgeslm.fleet.MaintenanceWindow;
import io.edgeslm.fleet.NodeSelector;
import io.edgeslm.fleet.RolloutPlan;
import io.edgeslm.fleet.Thresholds;
import io.edgeslm.fleet.Wave;
import io.edgeslm.protocol.ModelRef;
import java.util.List;

/**
 * What a client sends to create a rollout: the plan without the model, which comes from the catalog
 * bundle.
 */
public record RolloutPlanRequest(
    String id,
    String name,
    String bundleId,
    NodeSelector selector,
    List<Wave> waves,
    Thresholds thresholds,
    HealthGate gate,
    List<MaintenanceWindow> windows) {

  RolloutPlan toPlan(ModelRef model) {
    return new RolloutPlan(name, bundleId, model, selector, waves, thresholds, gate, windows);
  }
}
