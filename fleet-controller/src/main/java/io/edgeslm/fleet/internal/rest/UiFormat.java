package io.edgeslm.fleet.internal.rest;

import io.quarkus.qute.TemplateExtension;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * How the web UI shows sizes and times: {@code {fmt:bytes(n)}} gives binary units ("8.0 GiB", "29.3
 * KiB"), {@code {fmt:time(t)}} a UTC timestamp to the second ("2026-12-02 03:59:12 UTC"). Absent
 * values show as a dash.
 */
@TemplateExtension(namespace = "fmt")
public final class UiFormat {

  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private UiFormat() {}

  /** A byte count in binary units with one decimal; below 1 KiB in bytes. */
  public static String bytes(Long n) {
    if (n == null) {
      return "—";
    }
    long v = n;
    if (Math.abs(v) < 1024) {
      return v + " B";
    }
    double d = v;
    int unit = -1;
    while (Math.abs(d) >= 1024 && unit < UNITS.length - 1) {
      d /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", d, UNITS[unit]);
  }

  /**
   * A node's progress report in words: "downloading 40.0 KiB of 80.0 KiB (50%) at 2026-12-02
   * 03:59:12 UTC".
   */
  public static String progress(io.edgeslm.fleet.internal.store.DownloadProgress p) {
    return p.phase()
        + " "
        + bytes(p.bytesDone())
        + " of "
        + bytes(p.bytesTotal())
        + " ("
        + p.percent()
        + "%) at "
        + time(p.at());
  }

  /** An instant as a UTC timestamp to the second. */
  public static String time(Instant t) {
    return t == null ? "—" : TIME.format(t);
  }
}
