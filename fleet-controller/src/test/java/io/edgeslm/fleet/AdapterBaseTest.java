package io.edgeslm.fleet;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.protocol.ModelRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The base-model rule for adapter rollouts, over fleets built in memory. */
class AdapterBaseTest {
  static final ModelRef BASE = ModelRef.of("phi-mini", 3, "sha256:" + "a".repeat(64));
  static final ModelRef OTHER_BASE = ModelRef.of("qwen-small", 2, "sha256:" + "b".repeat(64));
  static final String ADAPTER = "sha256:" + "c".repeat(64);

  static FleetNode node(String id, String line, ModelRef serving) {
    return new FleetNode(
        id, "plant-1", true, "x86_64", "gw-8g", 8L << 30, Map.of("line", line), serving);
  }

  static NodeSelector line(String line) {
    return new NodeSelector(Set.of(), Set.of(), Set.of(), 0, Map.of("line", line));
  }

  private static void check(NodeSelector selector, List<FleetNode> nodes)
      throws FleetConflictException {
    AdapterBase.requireBase("lora-v1-cccc", ADAPTER, BASE.digest(), selector, nodes);
  }

  @Test
  void everyMatchedNodeServesTheBase_orTheAdapterAlready_allowed() {
    List<FleetNode> fleet =
        List.of(
            node("gw-1", "a", BASE),
            node("gw-2", "a", ModelRef.of("lora", 1, ADAPTER)),
            node("gw-9", "b", OTHER_BASE));

    assertThatCode(() -> check(line("a"), fleet)).doesNotThrowAnyException();
  }

  @Test
  void wrongBase_nodesServingAnotherBaseOrNone_refusedNamingThemAndTheRequiredBase() {
    List<FleetNode> fleet =
        List.of(
            node("gw-3", "a", OTHER_BASE),
            node("gw-1", "a", BASE),
            node("gw-2", "a", null),
            node("gw-9", "b", OTHER_BASE));

    assertThatThrownBy(() -> check(line("a"), fleet))
        .isInstanceOf(FleetConflictException.class)
        .hasMessage(
            "Bundle 'lora-v1-cccc' is a LoRA adapter for base model "
                + BASE.digest()
                + ", but 2 nodes the selector matches serve another base: gw-2 (no model), gw-3 ("
                + OTHER_BASE.digest()
                + "). Roll the base model out to them first, or narrow the selector.");
  }

  @Test
  void wrongBase_onManyNodes_namesABoundedNumberAndCountsTheRest() {
    List<FleetNode> fleet = new ArrayList<>();
    for (int i = 0; i < AdapterBase.MAX_NAMED_NODES + 5; i++) {
      fleet.add(node("gw-%03d".formatted(i), "a", OTHER_BASE));
    }

    assertThatThrownBy(() -> check(NodeSelector.ALL, fleet))
        .isInstanceOf(FleetConflictException.class)
        .hasMessageContaining((AdapterBase.MAX_NAMED_NODES + 5) + " nodes the selector matches")
        .hasMessageContaining("gw-019 (")
        .hasMessageNotContaining("gw-020")
        .hasMessageContaining(" and 5 more.");
  }
}
