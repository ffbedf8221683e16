package io.edgeslm.agent.internal.update;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestPlannerTest {

  static BitSet all(int n) {
    BitSet b = new BitSet();
    b.set(0, n);
    return b;
  }

  @Test
  void plan_neverExceedsTheWindow_andNeverAsksTwiceForAnOutstandingChunk() {
    RequestPlanner p = new RequestPlanner(1, 2, 4, 100, 1000, "r");
    BitSet missing = all(20);

    List<RequestPlanner.Ask> first = p.plan(0, f -> missing);
    List<RequestPlanner.Ask> again = p.plan(1, f -> missing);

    assertThat(first).hasSize(2);
    assertThat(first.get(0).chunks()).isEqualTo(BitSet.valueOf(new long[] {0b1111}));
    assertThat(first.get(1).chunks()).isEqualTo(BitSet.valueOf(new long[] {0b1111_0000}));
    assertThat(again).isEmpty();
    assertThat(p.chunksInFlight()).isEqualTo(8);
  }

  @Test
  void idleRequest_expires_andOnlyItsMissingChunksAreAskedAgain() {
    RequestPlanner p = new RequestPlanner(1, 1, 4, 100, 1000, "r");
    BitSet missing = all(4);
    p.plan(0, f -> missing);
    p.received(0, 0, 10);
    missing.clear(0);
    p.received(0, 1, 20);
    missing.clear(1);

    assertThat(p.plan(50, f -> missing)).isEmpty(); // still within the idle time
    List<RequestPlanner.Ask> retry = p.plan(121, f -> missing);

    assertThat(retry).singleElement().satisfies(a -> assertThat(a.chunks()).isEqualTo(missing));
  }

  @Test
  void corruptChunk_isAskedForAgainAtOnce() {
    RequestPlanner p = new RequestPlanner(1, 1, 2, 100, 1000, "r");
    BitSet missing = all(2);
    p.plan(0, f -> missing);
    p.received(0, 0, 1);
    missing.clear(0);

    p.rejected(0, 1);

    assertThat(p.plan(2, f -> missing))
        .singleElement()
        .satisfies(a -> assertThat(a.chunks()).isEqualTo(BitSet.valueOf(new long[] {0b10})));
  }

  @Test
  void busyController_pausesNewRequests() {
    RequestPlanner p = new RequestPlanner(1, 1, 2, 100, 1000, "r");
    BitSet missing = all(2);
    p.plan(0, f -> missing);
    p.failed("r-1");
    p.pauseUntil(500);

    assertThat(p.plan(100, f -> missing)).isEmpty();
    assertThat(p.plan(500, f -> missing)).hasSize(1);
  }
}
