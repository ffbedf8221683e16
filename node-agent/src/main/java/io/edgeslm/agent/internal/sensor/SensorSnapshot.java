package io.edgeslm.agent.internal.sensor;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A consistent-enough copy of every sensor window at one instant, handed to the answer and report
 * tasks so that they never touch live buffers.
 *
 * @param at when the copy was taken
 * @param sensors one entry per configured sensor, in configuration order
 */
public record SensorSnapshot(Instant at, List<Sensor> sensors) {

  /**
   * One sensor's state.
   *
   * @param spec its configuration
   * @param samples its window, oldest first (may be empty)
   * @param staleReason why its newest value is no longer current, or empty
   */
  public record Sensor(
      SensorSpec spec, List<SensorWindow.Sample> samples, Optional<String> staleReason) {
    public Sensor {
      Objects.requireNonNull(spec, "spec");
      samples = List.copyOf(samples);
      Objects.requireNonNull(staleReason, "staleReason");
    }

    public Sensor(SensorSpec spec, List<SensorWindow.Sample> samples) {
      this(spec, samples, Optional.empty());
    }
  }

  public SensorSnapshot {
    Objects.requireNonNull(at, "at");
    sensors = List.copyOf(sensors);
  }

  /** Copies every window of {@code store}. */
  public static SensorSnapshot of(SensorStore store, Instant at) {
    List<Sensor> out = new ArrayList<>();
    for (SensorWindow w : store.windows()) {
      SensorWindow.Contents c = w.contents();
      out.add(new Sensor(w.spec(), c.samples(), c.staleReason()));
    }
    return new SensorSnapshot(at, out);
  }
}
