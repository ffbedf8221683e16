package io.edgeslm.agent.internal.tasks;

/**
 * Anomaly rules of the sensor report.
 *
 * @param zScoreThreshold the latest value is anomalous when it lies more than this many standard
 *     deviations from the mean of the earlier samples in the window; 1..10
 * @param minSamplesForZScore earlier samples needed before the z-score rule applies; 3..10,000
 * @param criticalMargin an out-of-range value further than this fraction of the range's width
 *     beyond it makes the report critical (otherwise warning); 0..10
 */
public record ReportRules(double zScoreThreshold, int minSamplesForZScore, double criticalMargin) {
  public ReportRules {
    if (!(zScoreThreshold >= 1 && zScoreThreshold <= 10)) {
      throw new IllegalArgumentException(
          "zScoreThreshold must be in 1..10, was " + zScoreThreshold);
    }
    if (minSamplesForZScore < 3 || minSamplesForZScore > SensorWindow.MAX_SAMPLES) {
      throw new IllegalArgumentException(
          "minSamplesForZScore must be in 3.." + SensorWindow.MAX_SAMPLES);
    }
    if (!(criticalMargin >= 0 && criticalMargin <= 10)) {
      throw new IllegalArgumentException("criticalMargin must be in 0..10, was " + criticalMargin);
    }
  }

  /** z-score above 3 with at least 8 earlier samples; critical beyond 10 % of the range width. */
  public static ReportRules defaults() {
    return new ReportRules(3.0, 8, 0.1);
  }
}
