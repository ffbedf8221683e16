package io.edgeslm.agent.internal.sensor;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.function.BiConsumer;

/**
 * Plays a small production line for the demo: each sensor drifts slowly inside its normal range
 * with a little noise, and every {@value #EXCURSION_EVERY} ticks (the first time after {@value
 * #FIRST_EXCURSION}) the last sensor (press oil temperature in the demo) climbs above its range for
 * {@value #EXCURSION_LENGTH} ticks, so reports and answers have an anomaly to talk about.
 * Deterministic for a given seed.
 */
public final class DemoSimulator {

  static final int EXCURSION_EVERY = 180;
  static final int EXCURSION_LENGTH = 25;
  static final int FIRST_EXCURSION = 15;

  private final List<SensorSpec> sensors;
  private final Random random;
  private final BiConsumer<String, byte[]> publisher;
  private long tick;

  /**
   * @param sensors the sensors to play
   * @param seed noise seed
   * @param publisher receives topic and payload of each reading
   */
  public DemoSimulator(List<SensorSpec> sensors, long seed, BiConsumer<String, byte[]> publisher) {
    this.sensors = List.copyOf(sensors);
    this.random = new Random(seed);
    this.publisher = Objects.requireNonNull(publisher, "publisher");
  }

  /** Publishes one reading per sensor. */
  public void tick() {
    long t = tick++;
    for (int i = 0; i < sensors.size(); i++) {
      SensorSpec s = sensors.get(i);
      publisher.accept(s.topic(), payload(value(s, i, t)));
    }
  }

  /** The value of sensor {@code index} at tick {@code t}. */
  double value(SensorSpec s, int index, long t) {
    double span = s.normalMax() - s.normalMin();
    double mid = s.normalMin() + span * 0.55;
    double drift = Math.sin((t + index * 37) / 60.0) * span * 0.15;
    double noise = random.nextGaussian() * span * 0.01;
    double v = mid + drift + noise;
    // Shifted so that the first excursion starts after FIRST_EXCURSION ticks, not a whole cycle.
    long phase = (t + EXCURSION_EVERY - EXCURSION_LENGTH - FIRST_EXCURSION) % EXCURSION_EVERY;
    if (index == sensors.size() - 1 && phase >= EXCURSION_EVERY - EXCURSION_LENGTH) {
      // The excursion: climb past the top of the range, then fall back.
      double k = (phase - (EXCURSION_EVERY - EXCURSION_LENGTH)) / (double) EXCURSION_LENGTH;
      v = s.normalMax() + span * 0.12 * Math.sin(Math.PI * k) + span * 0.02;
    }
    return Math.round(v * 10) / 10.0;
  }

  static byte[] payload(double value) {
    return String.format(Locale.ROOT, "{\"value\":%.1f}", value)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Ticks until the first excursion starts, for the start-up banner. */
  public static Duration firstExcursionAfter(Duration period) {
    return period.multipliedBy(FIRST_EXCURSION);
  }
}
