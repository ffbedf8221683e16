package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.HealthGate;
import io.edgeslm.fleet.MaintenanceWindow;
import io.edgeslm.fleet.NodeSelector;
import io.edgeslm.fleet.RolloutPlan;
import io.edgeslm.fleet.Thresholds;
import io.edgeslm.fleet.Wave;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A rollout plan in words for its page: which nodes, the waves, when a wave counts as done or
 * failed, the health gate and the maintenance windows. The page shows what the engine will enforce,
 * so a release manager reads the rules next to the progress they govern.
 */
public final class PlanRows {

  /** One line of the plan: what it is about and what the plan says. */
  public record Row(String label, String value) {}

  private PlanRows() {}

  static List<Row> of(RolloutPlan p) {
    List<Row> rows = new ArrayList<>();
    rows.add(new Row("Nodes", selector(p.selector())));
    List<String> waves = new ArrayList<>();
    for (Wave w : p.waves()) {
      waves.add(wave(w));
    }
    rows.add(new Row("Waves", String.join(" · ", waves)));
    rows.add(new Row("A wave", thresholds(p.thresholds())));
    rows.add(new Row("Health gate", gate(p.gate())));
    rows.add(new Row("Maintenance windows", windows(p.windows())));
    return List.copyOf(rows);
  }

  /** "1 node", "25 nodes" or "50.0%", with ", approval" when the wave waits for one. */
  static String wave(Wave w) {
    String size =
        w.count() != null
            ? w.count() + (w.count() == 1 ? " node" : " nodes")
            : String.format(Locale.ROOT, "%.1f%%", w.percent());
    return size + (w.approval() ? ", approval" : "");
  }

  static String selector(NodeSelector s) {
    List<String> parts = new ArrayList<>();
    if (!s.sites().isEmpty()) {
      parts.add("sites " + String.join(", ", new TreeSet<>(s.sites())));
    }
    if (!s.arch().isEmpty()) {
      parts.add("architecture " + String.join(", ", new TreeSet<>(s.arch())));
    }
    if (!s.deviceClasses().isEmpty()) {
      parts.add("device class " + String.join(", ", new TreeSet<>(s.deviceClasses())));
    }
    if (s.minRamBytes() > 0) {
      parts.add("at least " + UiFormat.bytes(s.minRamBytes()) + " of RAM");
    }
    if (!s.labels().isEmpty()) {
      List<String> labels = new ArrayList<>();
      for (Map.Entry<String, String> e : new TreeMap<>(s.labels()).entrySet()) {
        labels.add(e.getKey() + "=" + e.getValue());
      }
      parts.add("labels " + String.join(", ", labels));
    }
    return parts.isEmpty() ? "every node" : String.join("; ", parts);
  }

  static String thresholds(Thresholds t) {
    return String.format(
        Locale.ROOT,
        "advances at %s%% installed; above %s%% failed: %s; a node without a result after %s"
            + " counts as failed",
        number(t.successPercent()),
        number(t.errorPercent()),
        switch (t.onErrors()) {
          case PAUSE -> "pause";
          case ABORT -> "abort";
          case ROLLBACK -> "abort and roll back";
        },
        duration(t.resultTimeout()));
  }

  static String gate(HealthGate g) {
    if (g == null) {
      return "none: a wave advances on its install results alone";
    }
    return String.format(
        Locale.ROOT,
        "after %s of soak, against the previous model in the %s before the assignment (medians"
            + " per node): tokens/s at least %s×, p95 latency at most %s×, error rate at most %s"
            + " higher, lowest activation score at least %s; fails unless %s%% of the"
            + " installed nodes report within %s after the soak",
        duration(g.soak()),
        duration(g.baseline()),
        number(g.minTokensPerSecondRatio()),
        number(g.maxP95LatencyRatio()),
        points(g.maxErrorRateIncrease() * 100),
        number(g.minActivationScore()),
        number(g.minMeasuredPercent()),
        duration(g.dataTimeout()));
  }

  static String windows(List<MaintenanceWindow> windows) {
    if (windows.isEmpty()) {
      return "any time";
    }
    List<String> out = new ArrayList<>();
    for (MaintenanceWindow w : windows) {
      List<String> days = new ArrayList<>();
      for (DayOfWeek d : new TreeSet<>(w.days())) {
        days.add(d.getDisplayName(TextStyle.FULL, Locale.ENGLISH));
      }
      out.add(
          (days.isEmpty() ? "every day" : String.join(", ", days))
              + " "
              + w.start()
              + "–"
              + w.end()
              + " "
              + w.zone().getId());
    }
    return String.join(" · ", out);
  }

  /** "45 s", "20 min", "1 h", "1 h 30 min", "2 d". */
  static String duration(Duration d) {
    long s = d.toSeconds();
    if (s % 86_400 == 0 && s > 0) {
      return s / 86_400 + " d";
    }
    if (s % 3600 == 0 && s > 0) {
      return s / 3600 + " h";
    }
    if (s >= 3600 && s % 60 == 0) {
      return s / 3600 + " h " + (s % 3600) / 60 + " min";
    }
    if (s % 60 == 0 && s > 0) {
      return s / 60 + " min";
    }
    return s + " s";
  }

  /** "1 percentage point", "2.5 percentage points". */
  static String points(double v) {
    String n = number(v);
    return n + (n.equals("1") ? " percentage point" : " percentage points");
  }

  /** 90 as "90", 0.8 as "0.8", 1.25 as "1.25". */
  static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
  }
}
