package io.edgeslm.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.fleet.sim.SimulatedFleet;
import io.edgeslm.protocol.ModelRef;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The preview a person sees before creating a rollout, against what the engine then does. */
class SelectionPreviewTest {

  static final ModelRef OLD = RolloutEngineTest.OLD;
  static final ModelRef NEW = RolloutEngineTest.NEW;
  static final Instant T0 = RolloutEngineTest.T0;

  /** 10 nodes on line a (one already on NEW, two offline), 5 on line b. */
  static SimulatedFleet fleet() {
    SimulatedFleet f =
        new SimulatedFleet()
            .addNodes("a", 10, OLD, Map.of("line", "a"), T0.minus(Duration.ofDays(1)))
            .perform(OLD, RolloutEngineTest.HEALTHY)
            .perform(NEW, RolloutEngineTest.HEALTHY);
    f.addNode("a-new", "plant-1", "amd64", Map.of("line", "a"), NEW, T0);
    for (int i = 0; i < 5; i++) {
      f.addNode("b-" + i, "plant-2", "aarch64", Map.of("line", "b"), OLD, T0);
    }
    f.setOnline("a-0003", false).setOnline("a-0007", false);
    return f;
  }

  static RolloutPlan plan(NodeSelector selector, List<Wave> waves) {
    return new RolloutPlan("preview", "b-1", NEW, selector, waves, null, null, List.of());
  }

  static final NodeSelector LINE_A =
      new NodeSelector(Set.of(), Set.of(), Set.of(), 0, Map.of("line", "a"));

  @Test
  void of_countsMatchedServingAndOffline_andListsTheNodesByIdWithTheirFate() {
    SelectionPreview p =
        SelectionPreview.of(
            plan(LINE_A, List.of(Wave.count(2), Wave.percent(100).withApproval())),
            fleet().nodes(),
            100);

    assertThat(p.matched()).isEqualTo(11);
    assertThat(p.toUpdate()).isEqualTo(10);
    assertThat(p.alreadyServing()).isEqualTo(1);
    assertThat(p.offline()).isEqualTo(2);
    assertThat(p.waves()).containsExactly(2, 6);
    assertThat(p.truncated()).isFalse();
    assertThat(p.nodes()).extracting(c -> c.node().nodeId()).startsWith("a-0000", "a-0001");
    assertThat(p.nodes())
        .filteredOn(c -> c.fate() == SelectionPreview.Fate.OFFLINE)
        .extracting(c -> c.node().nodeId())
        .containsExactly("a-0003", "a-0007");
    assertThat(p.nodes())
        .filteredOn(c -> c.fate() == SelectionPreview.Fate.SERVING)
        .extracting(c -> c.node().nodeId())
        .containsExactly("a-new");
  }

  @Test
  void of_beyondTheLimit_listsTheFirstNodesAndSaysItIsTruncated() {
    SelectionPreview p =
        SelectionPreview.of(plan(NodeSelector.ALL, List.of(Wave.percent(100))), fleet().nodes(), 3);

    assertThat(p.matched()).isEqualTo(16);
    assertThat(p.nodes()).hasSize(3);
    assertThat(p.truncated()).isTrue();
  }

  @Test
  void of_waveSizes_areWhatTheEngineAssignsWhenEachWaveStarts() {
    SimulatedFleet fleet = fleet();
    RolloutPlan plan =
        plan(
            new NodeSelector(Set.of(), Set.of(), Set.of(), 0, Map.of()),
            List.of(Wave.count(3), Wave.percent(50), Wave.percent(100)));
    SelectionPreview p = SelectionPreview.of(plan, fleet.nodes(), 100);

    RolloutEngine engine = new RolloutEngine();
    RolloutState s = engine.create("r-preview", plan, "alice", T0).state();
    Instant now = T0;
    for (int i = 0; i < 120 && s.status() == RolloutStatus.RUNNING; i++) {
      fleet.advanceTo(now);
      RolloutStep step = engine.tick(s, fleet, now);
      fleet.deliver(step.actions(), NEW, now);
      s = step.state();
      now = now.plus(Duration.ofMinutes(1));
    }

    assertThat(s.status()).isEqualTo(RolloutStatus.COMPLETED);
    assertThat(p.waves()).containsExactly(3, 5, 5);
    assertThat(s.waves()).extracting(WaveProgress::size).containsExactlyElementsOf(p.waves());
    assertThat(s.targets().keySet())
        .containsExactlyInAnyOrderElementsOf(
            p.nodes().stream()
                .filter(c -> c.fate() == SelectionPreview.Fate.UPDATE)
                .map(c -> c.node().nodeId())
                .toList());
  }
}
