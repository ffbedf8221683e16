package io.edgeslm.agent.internal.tasks;

import io.edgeslm.protocol.Anomaly;
import io.edgeslm.protocol.ReportContent;
import io.edgeslm.protocol.ReportStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The deterministic half of a sensor report: which readings are anomalous and how serious the
 * situation is. Pure; the model only phrases what this finds.
 *
 * <p>Rules, each with its id in {@link Anomaly#rule()}:
 *
 * <ul>
 *   <li>{@code max} / {@code min}: a sample above / below the normal range; the most extreme one in
 *       the window is reported. Beyond {@code criticalMargin} of the range's width it is critical.
 *   <li>{@code rate}: the steepest change between consecutive samples exceeds {@code
 *       maxRatePerSecond}; the value reported is that rate, in unit per second.
 *   <li>{@code zscore}: the latest sample lies more than {@code zScoreThreshold} standard
 *       deviations from the mean of the earlier samples (needs {@code minSamplesForZScore} of them
 *       and a non-zero deviation).
 * </ul>
 */
public final class AnomalyDetector {
  private AnomalyDetector() {}

  /** Findings: anomalies (most serious first, at most {@link ReportContent#MAX_ANOMALIES}). */
  public record Findings(ReportStatus status, List<Anomaly> anomalies, int sensors) {}

  public static Findings detect(List<SensorWindow> windows, ReportRules rules) {
    List<Scored> found = new ArrayList<>();
    for (SensorWindow w : windows) {
      range(w, rules, found);
      rate(w, found);
      zScore(w, rules, found);
    }
    found.sort(Comparator.comparingInt(Scored::severity).reversed());
    ReportStatus status = ReportStatus.OK;
    for (Scored s : found) {
      ReportStatus st = s.severity == 2 ? ReportStatus.CRITICAL : ReportStatus.WARNING;
      if (st.ordinal() > status.ordinal()) {
        status = st;
      }
    }
    List<Anomaly> anomalies =
        found.stream().limit(ReportContent.MAX_ANOMALIES).map(Scored::anomaly).toList();
    return new Findings(status, anomalies, windows.size());
  }

  private record Scored(Anomaly anomaly, int severity) {}

  private static void range(SensorWindow w, ReportRules rules, List<Scored> out) {
    NormalRange n = w.normal();
    SensorSample worst = null;
    double worstExcess = 0;
    for (SensorSample s : w.samples()) {
      double excess = s.value() > n.max() ? s.value() - n.max() : n.min() - s.value();
      if (excess > 0 && excess > worstExcess) {
        worst = s;
        worstExcess = excess;
      }
    }
    if (worst == null) {
      return;
    }
    boolean above = worst.value() > n.max();
    boolean latest = worst == w.latest();
    String detail =
        Numbers.withUnit(worst.value(), w.unit())
            + (above ? " is above the normal maximum " : " is below the normal minimum ")
            + Numbers.withUnit(above ? n.max() : n.min(), w.unit())
            + (latest
                ? ""
                : " (earlier in the window; latest " + Numbers.format(w.latest().value()) + ")")
            + ".";
    boolean critical = worstExcess > rules.criticalMargin() * n.width();
    out.add(
        new Scored(
            new Anomaly(
                w.sensor(), worst.value(), w.unit(), above ? "max" : "min", bounded(detail)),
            critical ? 2 : 1));
  }

  private static void rate(SensorWindow w, List<Scored> out) {
    if (w.maxRatePerSecond() == null || w.samples().size() < 2) {
      return;
    }
    double steepest = 0;
    for (int i = 1; i < w.samples().size(); i++) {
      SensorSample a = w.samples().get(i - 1);
      SensorSample b = w.samples().get(i);
      double seconds = (b.at().toEpochMilli() - a.at().toEpochMilli()) / 1000.0;
      if (seconds <= 0) {
        continue;
      }
      double r = (b.value() - a.value()) / seconds;
      if (Math.abs(r) > Math.abs(steepest)) {
        steepest = r;
      }
    }
    if (Math.abs(steepest) <= w.maxRatePerSecond()) {
      return;
    }
    String unit = w.unit() == null ? "/s" : w.unit() + "/s";
    String detail =
        (steepest > 0 ? "Rose" : "Fell")
            + " at "
            + Numbers.format(Math.abs(steepest))
            + " "
            + unit
            + ", faster than the allowed "
            + Numbers.format(w.maxRatePerSecond())
            + " "
            + unit
            + ".";
    out.add(new Scored(new Anomaly(w.sensor(), steepest, unit, "rate", bounded(detail)), 1));
  }

  private static void zScore(SensorWindow w, ReportRules rules, List<Scored> out) {
    int earlier = w.samples().size() - 1;
    if (earlier < rules.minSamplesForZScore()) {
      return;
    }
    double mean = 0;
    for (int i = 0; i < earlier; i++) {
      mean += w.samples().get(i).value();
    }
    mean /= earlier;
    double var = 0;
    for (int i = 0; i < earlier; i++) {
      double d = w.samples().get(i).value() - mean;
      var += d * d;
    }
    double sd = Math.sqrt(var / (earlier - 1));
    if (sd == 0 || !Double.isFinite(sd)) {
      return;
    }
    double latest = w.latest().value();
    double z = (latest - mean) / sd;
    if (Math.abs(z) <= rules.zScoreThreshold()) {
      return;
    }
    String detail =
        "Latest "
            + Numbers.withUnit(latest, w.unit())
            + " is "
            + Numbers.format(Math.abs(z))
            + " standard deviations "
            + (z > 0 ? "above" : "below")
            + " the window mean "
            + Numbers.format(mean)
            + " (sd "
            + Numbers.format(sd)
            + ", "
            + earlier
            + " earlier samples).";
    out.add(new Scored(new Anomaly(w.sensor(), latest, w.unit(), "zscore", bounded(detail)), 1));
  }

  private static String bounded(String s) {
    return s.length() <= Anomaly.MAX_DETAIL_CHARS
        ? s
        : s.substring(0, Anomaly.MAX_DETAIL_CHARS - 3) + "...";
  }
}
