package io.edgeslm.agent.internal.sensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SensorStoreTest {

  private static final SensorSpec CONFIGURED =
      new SensorSpec("oil", "plant/oil", "°C", "Oil", 40, 80, 10);

  @Test
  void define_beyondTheBound_isRefusedAndConfiguredSensorsStay() {
    SensorStore store = new SensorStore(List.of(CONFIGURED), 2);
    assertThat(store.define(SensorSpec.unranged("a", "t", "", "a", 10))).isPresent();
    assertThat(store.define(SensorSpec.unranged("b", "t", "", "b", 10))).isEmpty();
    assertThat(store.ids()).containsExactly("oil", "a");
  }

  @Test
  void define_aConfiguredId_doesNotReplaceItsConfiguration() {
    SensorStore store = new SensorStore(List.of(CONFIGURED), 10);
    assertThat(store.define(SensorSpec.unranged("oil", "spBv1.0/g", "K", "oil", 10))).isEmpty();
    assertThat(store.byId("oil").orElseThrow().spec()).isEqualTo(CONFIGURED);
  }

  @Test
  void redefineWithAnotherUnit_dropsSamplesInTheOldUnit() {
    SensorStore store = new SensorStore(List.of(), 10);
    SensorWindow w = store.define(SensorSpec.unranged("t", "x", "°C", "t", 10)).orElseThrow();
    w.add(new SensorWindow.Sample(Instant.EPOCH, 70));
    store.define(SensorSpec.unranged("t", "x", "°C", "t", 10));
    assertThat(w.samples()).hasSize(1);
    store.define(SensorSpec.unranged("t", "x", "°F", "t", 10));
    assertThat(w.samples()).isEmpty();
    assertThat(w.spec().unit()).isEqualTo("°F");
  }

  @Test
  void staleMark_isInTheSnapshotUntilTheNextSample() {
    SensorStore store = new SensorStore(List.of(CONFIGURED), 10);
    SensorWindow w = store.byId("oil").orElseThrow();
    w.add(new SensorWindow.Sample(Instant.EPOCH, 70));
    w.markStale("edge node line1 went offline (NDEATH)");
    assertThat(SensorSnapshot.of(store, Instant.EPOCH).sensors().getFirst().staleReason())
        .contains("edge node line1 went offline (NDEATH)");
    w.add(new SensorWindow.Sample(Instant.EPOCH.plusSeconds(1), 71));
    assertThat(SensorSnapshot.of(store, Instant.EPOCH).sensors().getFirst().staleReason())
        .isEmpty();
  }

  @Test
  void unrangedSpec_everyValueIsNormal() {
    SensorSpec s = SensorSpec.unranged("x", "t", "", "x", 2);
    assertThat(s.hasRange()).isFalse();
    assertThat(s.isNormal(-1e9)).isTrue();
    assertThat(CONFIGURED.isNormal(81)).isFalse();
  }
}
