package io.edgeslm.agent.internal.sensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SensorWindowTest {

  private static final SensorSpec SPEC =
      new SensorSpec("press3.oil_temp", "p/oil", "°C", "Press 3 oil temperature", 40, 80, 3);

  @Test
  void add_pastCapacity_keepsNewestInOrder() {
    SensorWindow w = new SensorWindow(SPEC);
    Instant t0 = Instant.parse("2026-11-21T00:00:00Z");
    for (int i = 0; i < 5; i++) {
      w.add(new SensorWindow.Sample(t0.plusSeconds(i), 70 + i));
    }
    assertThat(w.samples())
        .extracting(SensorWindow.Sample::value)
        .containsExactly(72.0, 73.0, 74.0);
    assertThat(w.latest().orElseThrow().value()).isEqualTo(74.0);
    assertThat(w.total()).isEqualTo(5);
  }

  @Test
  void empty_hasNoLatest() {
    SensorWindow w = new SensorWindow(SPEC);
    assertThat(w.latest()).isEmpty();
    assertThat(w.samples()).isEqualTo(List.of());
  }

  @Test
  void demoSimulator_lastSensorLeavesRangeOnlyDuringExcursion() {
    List<SensorSpec> specs = io.edgeslm.agent.internal.config.DemoSensors.specs("n1");
    DemoSimulator sim = new DemoSimulator(specs, 1, (t, p) -> {});
    SensorSpec oil = specs.getLast();
    for (long t = 0; t < DemoSimulator.FIRST_EXCURSION; t++) {
      assertThat(oil.isNormal(sim.value(oil, specs.size() - 1, t))).as("tick %d", t).isTrue();
    }
    boolean above = false;
    for (long t = DemoSimulator.FIRST_EXCURSION;
        t < DemoSimulator.FIRST_EXCURSION + DemoSimulator.EXCURSION_LENGTH;
        t++) {
      above |= sim.value(oil, specs.size() - 1, t) > oil.normalMax();
    }
    assertThat(above).isTrue();
    for (int i = 0; i < specs.size() - 1; i++) {
      for (long t = 0; t < 400; t++) {
        assertThat(specs.get(i).isNormal(sim.value(specs.get(i), i, t))).isTrue();
      }
    }
  }
}
