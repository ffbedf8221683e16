package io.edgeslm.agent.internal.tasks;

import io.edgeslm.protocol.Anomaly;
import io.edgeslm.protocol.ReportContent;
import io.edgeslm.protocol.ReportStatus;
import java.util.LinkedHashSet;
import java.util.Set;

/** The rule-based wording of a sensor report, used without a model and as the fallback. */
public final class RuleReport {
  private RuleReport() {}

  public static ReportContent content(AnomalyDetector.Findings f) {
    if (f.anomalies().isEmpty()) {
      return new ReportContent(
          ReportStatus.OK,
          "All "
              + f.sensors()
              + (f.sensors() == 1 ? " sensor stayed" : " sensors stayed")
              + " within normal bounds over the window.",
          f.anomalies(),
          "No action needed.");
    }
    Set<String> sensors = new LinkedHashSet<>();
    f.anomalies().forEach(a -> sensors.add(a.sensor()));
    StringBuilder summary = new StringBuilder();
    summary
        .append(f.anomalies().size())
        .append(f.anomalies().size() == 1 ? " anomaly on " : " anomalies on ")
        .append(sensors.size())
        .append(" of ")
        .append(f.sensors())
        .append(f.sensors() == 1 ? " sensor: " : " sensors: ");
    boolean first = true;
    for (Anomaly a : f.anomalies()) {
      String part = (first ? "" : "; ") + a.sensor() + " " + a.detail();
      if (summary.length() + part.length() > ReportContent.MAX_TEXT_CHARS - 4) {
        summary.append("; ...");
        break;
      }
      summary.append(part);
      first = false;
    }
    String prefix = f.status() == ReportStatus.CRITICAL ? "Act now: inspect " : "Inspect ";
    StringBuilder rec = new StringBuilder(prefix);
    first = true;
    for (String s : sensors) {
      String part = (first ? "" : ", ") + s;
      if (rec.length() + part.length() > ReportContent.MAX_TEXT_CHARS - 80) {
        rec.append(", ...");
        break;
      }
      rec.append(part);
      first = false;
    }
    rec.append(" and the equipment behind ")
        .append(sensors.size() == 1 ? "it" : "them")
        .append("; confirm the readings before changing settings.");
    return new ReportContent(f.status(), summary.toString(), f.anomalies(), rec.toString());
  }
}
