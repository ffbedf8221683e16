package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.internal.store.HealthPoint;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The geometry of one health series as an SVG line chart with a time axis (UTC) and a value axis in
 * the series' unit, for the node page. Pure: it takes the points and the time range and computes
 * the polyline and the tick positions and labels, so the template only draws them. The value axis
 * starts at zero and ends at a round number above the largest value, so two nodes' charts read the
 * same way.
 *
 * @param title what the series is, e.g. "Tokens per second"
 * @param unit the value axis' unit, e.g. "tokens/s"
 * @param line the polyline's points ("x,y x,y …"), empty when no point has a value
 * @param xTicks time ticks along the bottom
 * @param yTicks value ticks along the left side
 * @param values points with a value in the range
 */
public record HealthChart(
    String title, String unit, String line, List<Tick> xTicks, List<Tick> yTicks, int values) {

  /** The chart's size and the plot area inside it, in SVG user units. */
  public static final int WIDTH = 720;

  public static final int HEIGHT = 220;
  public static final int LEFT = 64;
  public static final int RIGHT = 708;
  public static final int TOP = 12;
  public static final int BOTTOM = 184;

  /** One tick: its position along its axis and its label. */
  public record Tick(double at, String label) {}

  /** The time ranges the node page offers, by their query value. */
  public enum Range {
    H1("1h", Duration.ofHours(1), Duration.ofMinutes(10), "HH:mm"),
    H6("6h", Duration.ofHours(6), Duration.ofHours(1), "HH:mm"),
    H24("24h", Duration.ofHours(24), Duration.ofHours(4), "HH:mm"),
    D7("7d", Duration.ofDays(7), Duration.ofDays(1), "MM-dd");

    private final String key;
    private final Duration span;
    private final Duration step;
    private final DateTimeFormatter format;

    Range(String key, Duration span, Duration step, String pattern) {
      this.key = key;
      this.span = span;
      this.step = step;
      this.format = DateTimeFormatter.ofPattern(pattern, Locale.ROOT).withZone(ZoneOffset.UTC);
    }

    public String key() {
      return key;
    }

    public Duration span() {
      return span;
    }

    /** The range named {@code key}, or 24 h for an absent or unknown one. */
    public static Range of(String key) {
      for (Range r : values()) {
        if (r.key.equals(key)) {
          return r;
        }
      }
      return H24;
    }
  }

  /**
   * The chart of {@code value} over {@code points} (any order) in the range ending at {@code to}.
   * Points without a value, or outside the range, are left out.
   */
  public static HealthChart of(
      String title,
      String unit,
      List<HealthPoint> points,
      Function<HealthPoint, Double> value,
      Range range,
      Instant to) {
    Instant from = to.minus(range.span);
    List<HealthPoint> sorted =
        points.stream()
            .filter(p -> value.apply(p) != null)
            .filter(p -> !p.at().isBefore(from) && !p.at().isAfter(to))
            .sorted(java.util.Comparator.comparing(HealthPoint::at))
            .toList();
    double max = 0;
    for (HealthPoint p : sorted) {
      max = Math.max(max, value.apply(p));
    }
    double top = niceCeiling(max);
    StringBuilder line = new StringBuilder();
    for (HealthPoint p : sorted) {
      double x = x(p.at(), from, to);
      double y = BOTTOM - (BOTTOM - TOP) * value.apply(p) / top;
      line.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
    }
    List<Tick> yTicks = new ArrayList<>();
    for (int i = 0; i <= 4; i++) {
      double v = top * i / 4;
      yTicks.add(new Tick(BOTTOM - (BOTTOM - TOP) * i / 4.0, number(v)));
    }
    List<Tick> xTicks = new ArrayList<>();
    Instant t = ceil(from, range.step);
    while (!t.isAfter(to)) {
      xTicks.add(new Tick(x(t, from, to), range.format.format(t)));
      t = t.plus(range.step);
    }
    return new HealthChart(title, unit, line.toString().trim(), xTicks, yTicks, sorted.size());
  }

  private static double x(Instant t, Instant from, Instant to) {
    double span = Duration.between(from, to).toMillis();
    return LEFT + (RIGHT - LEFT) * Duration.between(from, t).toMillis() / span;
  }

  /** The first multiple of {@code step} since the epoch at or after {@code t}. */
  static Instant ceil(Instant t, Duration step) {
    long s = step.toMillis();
    long ms = t.truncatedTo(ChronoUnit.MILLIS).toEpochMilli();
    long up = Math.floorDiv(ms + s - 1, s) * s;
    return Instant.ofEpochMilli(up);
  }

  /**
   * The smallest of 1, 2, 2.5, 5 times a power of ten that is at least {@code max} (1 for no data),
   * so the four value ticks have round labels.
   */
  static double niceCeiling(double max) {
    if (max <= 0) {
      return 1;
    }
    double power = Math.pow(10, Math.floor(Math.log10(max)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * power >= max) {
        return m * power;
      }
    }
    return 10 * power;
  }

  /** A tick label: no decimals from 100 up or for whole numbers, else up to two. */
  static String number(double v) {
    if (v >= 100 || v == Math.rint(v)) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    String s = String.format(Locale.ROOT, "%.2f", v);
    return s.replaceAll("0+$", "").replaceAll("\\.$", "");
  }
}
