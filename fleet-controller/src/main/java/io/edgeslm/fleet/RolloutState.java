package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A rollout's complete state: the plan, where each wave is and every node it reached. The {@link
 * RolloutEngine} turns one state into the next; storage keeps {@link #revision()} to refuse a stale
 * write from a second controller replica.
 *
 * @param id the rollout id, 1 to 63 identifier characters
 * @param plan what was asked for
 * @param status where it is
 * @param currentWave index of the wave in progress (equal to the number of waves once completed)
 * @param waves one entry per planned wave
 * @param targets the nodes reached so far, by node id
 * @param waiting for people: what the rollout waits for now (approval, window, soak, results), or
 *     empty
 * @param revision incremented by every stored change
 * @param createdBy who created it
 * @param createdAt when
 * @param updatedAt when it last changed
 */
public record RolloutState(
    String id,
    RolloutPlan plan,
    RolloutStatus status,
    int currentWave,
    List<WaveProgress> waves,
    Map<String, Target> targets,
    String waiting,
    long revision,
    String createdBy,
    Instant createdAt,
    Instant updatedAt) {

  public RolloutState {
    Checks.identifier("rollout id", id, 63);
    Checks.required("plan", plan);
    Checks.required("status", status);
    waves = List.copyOf(waves);
    Checks.check(
        waves.size() == plan.waves().size(),
        "a rollout state needs one progress entry per wave: got "
            + waves.size()
            + " for "
            + plan.waves().size()
            + " waves.");
    Checks.range("currentWave", currentWave, 0, waves.size());
    targets = Collections.unmodifiableMap(new TreeMap<>(targets));
    waiting = waiting == null ? "" : waiting;
    Checks.required("createdAt", createdAt);
    Checks.required("updatedAt", updatedAt);
  }

  /** The assignment id of {@code nodeId} in this rollout. */
  public String assignmentId(String nodeId) {
    return id + "." + nodeId;
  }

  /** Targets in {@code phase}. */
  public long count(TargetPhase phase) {
    return targets.values().stream().filter(t -> t.phase() == phase).count();
  }
}
