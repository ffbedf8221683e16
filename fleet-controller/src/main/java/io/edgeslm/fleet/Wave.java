package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;

/**
 * One wave of a rollout: either a fixed number of additional nodes (a canary) or a cumulative
 * percentage of the selected fleet. Percentages are cumulative: waves {@code 1%, 10%, 100%} reach
 * 1%, then 10%, then all of the nodes the selector matches at the time each wave starts, so nodes
 * that join late are counted in later waves.
 *
 * @param count additional nodes, 1 to 1,000,000; null for a percentage wave
 * @param percent cumulative share in (0, 100]; null for a count wave
 * @param approval whether an operator must approve before this wave starts
 */
public record Wave(Integer count, Double percent, boolean approval) {

  public Wave {
    Checks.check(
        (count == null) != (percent == null),
        "a wave has either a count or a percent: got "
            + (count == null ? "neither" : "both")
            + ". Write {\"count\":5} for a canary or {\"percent\":25} for a share.");
    if (count != null) {
      Checks.range("wave count", count, 1, 1_000_000);
    } else {
      Checks.check(
          percent > 0 && percent <= 100,
          "wave percent must be in (0, 100]: got " + percent + ". Use a share such as 10 or 100.");
    }
  }

  public static Wave count(int count) {
    return new Wave(count, null, false);
  }

  public static Wave percent(double percent) {
    return new Wave(null, percent, false);
  }

  /** This wave, needing an operator's approval before it starts. */
  public Wave withApproval() {
    return new Wave(count, percent, true);
  }

  /**
   * How many nodes should be in the rollout once this wave has started.
   *
   * @param alreadyIn nodes already assigned by earlier waves
   * @param population nodes already assigned plus eligible ones not yet assigned
   */
  public long goal(long alreadyIn, long population) {
    if (count != null) {
      return Math.min(population, alreadyIn + count);
    }
    return Math.min(population, (long) Math.ceil(percent / 100.0 * population - 1e-9));
  }
}
