package io.edgeslm.fleet.internal.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;

/**
 * Sizes, ages and tables for people; {@code --json} output never goes through here. Pure: the
 * caller passes the current instant.
 */
final class Humanized {

  private Humanized() {}

  /** Decimal units (file and transfer sizes): {@code 1.5 GB}; below 1000 bytes, exact. */
  static String bytes(long n) {
    if (n < 1000) {
      return n + " B";
    }
    String[] units = {"kB", "MB", "GB", "TB", "PB"};
    double v = n;
    int u = -1;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /** Binary units (memory, as the OS reports it): 8589934592 is {@code 8.0 GiB}. */
  static String binaryBytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /**
   * How long before {@code now} an ISO-8601 instant was: {@code 42 s ago}, {@code 5 min ago},
   * {@code 3 h ago}, {@code 2 d ago}; {@code -} for none, the text itself if it is no instant.
   */
  static String ago(Instant now, String iso) {
    if (iso == null || iso.isBlank() || iso.equals("null")) {
      return "-";
    }
    Instant at;
    try {
      at = Instant.parse(iso);
    } catch (DateTimeParseException e) {
      return iso;
    }
    Duration d = Duration.between(at, now);
    if (d.isNegative()) {
      // Clocks differ between the controller and this machine; do not print "in 2 s".
      return "just now";
    }
    long s = d.toSeconds();
    if (s < 90) {
      return s + " s ago";
    }
    if (s < 90 * 60) {
      return Math.round(s / 60.0) + " min ago";
    }
    if (s < 36 * 3600) {
      return Math.round(s / 3600.0) + " h ago";
    }
    return Math.round(s / 86400.0) + " d ago";
  }

  /** A JSON object's fields as {@code key=value, key=value} in its order; {@code -} for none. */
  static String pairs(JsonNode object) {
    List<String> out = new java.util.ArrayList<>();
    object.properties().forEach(e -> out.add(e.getKey() + "=" + e.getValue().asText()));
    return out.isEmpty() ? "-" : String.join(", ", out);
  }

  /** A JSON array's values joined with {@code ", "}; {@code -} for none. */
  static String values(JsonNode array) {
    List<String> out = new java.util.ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return out.isEmpty() ? "-" : String.join(", ", out);
  }

  /** Prints rows as left-aligned columns two spaces apart; the first row is the header. */
  static void table(PrintWriter out, List<List<String>> rows) {
    int columns = rows.stream().mapToInt(List::size).max().orElse(0);
    int[] width = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < row.size(); i++) {
        width[i] = Math.max(width[i], row.get(i).length());
      }
    }
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        line.append(row.get(i));
        if (i < row.size() - 1) {
          line.append(" ".repeat(width[i] - row.get(i).length() + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }
}
