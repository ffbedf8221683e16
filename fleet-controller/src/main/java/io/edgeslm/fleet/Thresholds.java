package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.time.Duration;

/**
 * Per-wave thresholds.
 *
 * @param successPercent share of a wave's nodes that must report a successful install before the
 *     wave advances (or starts its soak), in (0, 100]
 * @param errorPercent share of failed nodes above which {@code onErrors} applies, in [0, 100)
 * @param onErrors what to do past {@code errorPercent}
 * @param resultTimeout a node with no install result after this long counts as failed
 */
public record Thresholds(
    double successPercent, double errorPercent, ErrorAction onErrors, Duration resultTimeout) {

  /** 95% success to advance, pause above 5% errors, one hour for a result. */
  public static final Thresholds DEFAULT =
      new Thresholds(95, 5, ErrorAction.PAUSE, Duration.ofHours(1));

  public Thresholds {
    Checks.check(
        successPercent > 0 && successPercent <= 100,
        "successPercent must be in (0, 100]: got " + successPercent + ". Use e.g. 95.");
    Checks.check(
        errorPercent >= 0 && errorPercent < 100,
        "errorPercent must be in [0, 100): got " + errorPercent + ". Use e.g. 5.");
    Checks.required("onErrors", onErrors);
    Checks.required("resultTimeout", resultTimeout);
    Checks.check(
        !resultTimeout.isNegative() && !resultTimeout.isZero(),
        "resultTimeout must be positive: got " + resultTimeout + ". Use e.g. PT1H.");
  }
}
