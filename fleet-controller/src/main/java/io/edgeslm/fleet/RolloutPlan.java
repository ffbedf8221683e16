package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import io.edgeslm.protocol.ModelRef;
import java.time.Instant;
import java.util.List;

/**
 * What an operator asks for: install one catalog bundle on the selected nodes, wave by wave.
 *
 * @param name a label for people, 1 to 200 characters
 * @param bundleId the catalog bundle to install
 * @param model the bundle's model identity (its digest is what "installed" means)
 * @param selector which nodes
 * @param waves 1 to {@value #MAX_WAVES} waves; the last must reach 100 percent
 * @param thresholds per-wave success and error thresholds
 * @param gate the health gate after each wave, or null for none
 * @param windows maintenance windows in which waves may start; empty means any time
 */
public record RolloutPlan(
    String name,
    String bundleId,
    ModelRef model,
    NodeSelector selector,
    List<Wave> waves,
    Thresholds thresholds,
    HealthGate gate,
    List<MaintenanceWindow> windows) {

  /** Most waves in a plan. */
  public static final int MAX_WAVES = 20;

  /** Most maintenance windows in a plan. */
  public static final int MAX_WINDOWS = 50;

  public RolloutPlan {
    Checks.text("name", name, 200);
    Checks.identifier("bundleId", bundleId, 128);
    Checks.required("model", model);
    selector = selector == null ? NodeSelector.ALL : selector;
    Checks.required("waves", waves);
    Checks.check(
        !waves.isEmpty() && waves.size() <= MAX_WAVES,
        "waves must list 1 to " + MAX_WAVES + " waves: got " + waves.size() + ".");
    waves = List.copyOf(waves);
    Wave last = waves.get(waves.size() - 1);
    Checks.check(
        last.percent() != null && last.percent() == 100.0,
        "the last wave must reach 100 percent so that every selected node is covered: got "
            + (last.count() != null ? "count " + last.count() : last.percent() + " percent")
            + ". Add a final {\"percent\":100} wave.");
    double previous = 0;
    for (Wave w : waves) {
      if (w.percent() != null) {
        Checks.check(
            w.percent() >= previous,
            "wave percentages are cumulative and must not decrease: got "
                + w.percent()
                + " after "
                + previous
                + ". Order the waves by growing share.");
        previous = w.percent();
      }
    }
    thresholds = thresholds == null ? Thresholds.DEFAULT : thresholds;
    windows = windows == null ? List.of() : List.copyOf(windows);
    Checks.check(
        windows.size() <= MAX_WINDOWS,
        "windows must list at most " + MAX_WINDOWS + " entries: got " + windows.size() + ".");
  }

  /** Whether a wave may start at {@code at}. */
  public boolean inWindow(Instant at) {
    return windows.isEmpty() || windows.stream().anyMatch(w -> w.contains(at));
  }
}
