package io.edgeslm.agent.internal.tasks;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;

/** Number, range and age formatting for operator-facing text. */
public final class Numbers {
  private Numbers() {}

  /** At most 3 decimals, no trailing zeros, no exponent: 71.2, 40, 0.004. */
  public static String format(double v) {
    BigDecimal d = BigDecimal.valueOf(v).setScale(3, RoundingMode.HALF_UP).stripTrailingZeros();
    String s = d.toPlainString();
    return s.equals("-0") ? "0" : s;
  }

  /** "40–80" (en dash, as ranges are printed). */
  public static String range(double min, double max) {
    return format(min) + "\u2013" + format(max);
  }

  /** "71.2 °C" or "71.2" without a unit. */
  public static String withUnit(double v, String unit) {
    return unit == null || unit.isBlank() ? format(v) : format(v) + " " + unit;
  }

  /** "2 s", "3 min", "1 h 5 min", "2 d 4 h"; negative ages (clock skew) read as 0 s. */
  public static String age(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 120) {
      return s + " s";
    }
    long m = s / 60;
    if (m < 60) {
      return m + " min";
    }
    long h = m / 60;
    if (h < 48) {
      return h + " h" + (m % 60 == 0 ? "" : " " + m % 60 + " min");
    }
    return h / 24 + " d" + (h % 24 == 0 ? "" : " " + h % 24 + " h");
  }
}
