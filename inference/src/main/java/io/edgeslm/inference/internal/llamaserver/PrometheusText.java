package io.edgeslm.inference.internal.llamaserver;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the samples of a Prometheus text exposition (the format llama-server's {@code /metrics}
 * writes: {@code name value} lines, {@code #} comments) into a map. Labelled samples keep their
 * labels in the key. Bounded: at most 512 samples, names of at most 200 characters; other lines are
 * skipped. Pure.
 */
final class PrometheusText {
  static final int MAX_SAMPLES = 512;

  private PrometheusText() {}

  static Map<String, Double> parse(String text) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      int space = l.lastIndexOf(' ');
      if (space <= 0 || space > 200) {
        continue;
      }
      String name = l.substring(0, space).strip();
      String value = l.substring(space + 1);
      try {
        double v = Double.parseDouble(value);
        if (Double.isFinite(v)) {
          out.put(name, v);
        }
      } catch (NumberFormatException e) {
        continue;
      }
      if (out.size() >= MAX_SAMPLES) {
        break;
      }
    }
    return Map.copyOf(out);
  }
}
