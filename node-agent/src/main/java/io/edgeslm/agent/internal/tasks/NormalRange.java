package io.edgeslm.agent.internal.tasks;

/**
 * The configured normal operating range of a sensor, inclusive.
 *
 * @param min lowest normal value (finite)
 * @param max highest normal value (finite, at least {@code min})
 */
public record NormalRange(double min, double max) {
  public NormalRange {
    if (!Double.isFinite(min) || !Double.isFinite(max) || min > max) {
      throw new IllegalArgumentException(
          "A normal range needs finite min <= max, got " + min + ".." + max + ".");
    }
  }

  public boolean contains(double v) {
    return v >= min && v <= max;
  }

  public double width() {
    return max - min;
  }
}
