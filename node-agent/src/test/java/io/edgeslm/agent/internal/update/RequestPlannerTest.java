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

  /** Chunk {@code chunk} of file 0 arrives at {@code now} and is no longer missing. */
  static void arrived(RequestPlanner p, BitSet missing, int chunk, long now) {
    p.received(0, chunk, now);
    missing.clear(chunk);
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
  void plan_withRoom_asksForNoMoreChunksThanTheRoom_andNoPartialRequestBeforeTheEnd() {
    RequestPlanner p = new RequestPlanner(1, 8, 4, 100, 1000, "r");
    BitSet missing = all(10);

    List<RequestPlanner.Ask> first = p.plan(0, f -> missing, 6);
    List<RequestPlanner.Ask> none = p.plan(1, f -> missing, 3);
    List<RequestPlanner.Ask> last = p.plan(2, f -> missing, 4);

    // 6 chunks of room: one full request of 4; the 2 left would make a partial one, so wait.
    assertThat(first).hasSize(1);
    assertThat(first.get(0).chunks()).isEqualTo(BitSet.valueOf(new long[] {0b1111}));
    assertThat(none).isEmpty();
    assertThat(last).hasSize(1);
    assertThat(p.chunksInFlight()).isEqualTo(8);
    // The last 2 chunks of the file go out in a request of their own once there is room for them.
    List<RequestPlanner.Ask> tail = p.plan(3, f -> missing, 2);
    assertThat(tail).hasSize(1);
    assertThat(tail.get(0).chunks()).isEqualTo(BitSet.valueOf(new long[] {0b11_0000_0000}));
    assertThat(p.chunksInFlight()).isEqualTo(10);
  }

  @Test
  void idleRequest_expires_andOnlyItsMissingChunksAreAskedAgain() {
    RequestPlanner p = new RequestPlanner(1, 1, 4, 100, 1000, "r");
    BitSet missing = all(4);
    p.plan(0, f -> missing);
    arrived(p, missing, 0, 10);
    arrived(p, missing, 1, 20);

    assertThat(p.plan(50, f -> missing)).isEmpty(); // still within the idle time
    List<RequestPlanner.Ask> retry = p.plan(121, f -> missing);

    assertThat(retry).singleElement().satisfies(a -> assertThat(a.chunks()).isEqualTo(missing));
  }

  @Test
  void requestQueuedBehindOthers_waitsWhileTheyStart_andExpiresOnceNoneAheadIsLeftToStart() {
    RequestPlanner p = new RequestPlanner(1, 3, 2, 100, 1000, "r");
    BitSet missing = all(6);
    assertThat(p.plan(0, f -> missing)).hasSize(3); // {0,1}, {2,3}, {4,5}

    // A slow server: the first request starts at 900 and ends at 950, the second starts at 1800.
    arrived(p, missing, 0, 900);
    arrived(p, missing, 1, 950);
    assertThat(p.plan(1500, f -> missing)).isEmpty(); // the first-chunk time of 1000 is past
    arrived(p, missing, 2, 1800);
    arrived(p, missing, 3, 1850);

    // The third request was never served: it expires 1000 after the second one started.
    assertThat(p.plan(2700, f -> missing)).isEmpty();
    assertThat(p.chunksInFlight()).isEqualTo(2);
    List<RequestPlanner.Ask> retry = p.plan(2800, f -> missing);
    assertThat(retry).singleElement().satisfies(a -> assertThat(a.chunks()).isEqualTo(missing));
  }

  @Test
  void lostRequest_isNotKeptWaitingByRequestsSentAfterIt() {
    RequestPlanner p = new RequestPlanner(1, 3, 2, 100, 1000, "r");
    BitSet missing = all(6);
    assertThat(p.plan(0, f -> missing)).hasSize(3); // {0,1}, {2,3}, {4,5}

    // The server never got the first request; the second is served at 900-950.
    arrived(p, missing, 2, 900);
    arrived(p, missing, 3, 950);

    // Only requests sent before it may push its first-chunk time: it expires at 1000 as sent.
    List<RequestPlanner.Ask> retry = p.plan(1001, f -> missing);
    assertThat(retry)
        .singleElement()
        .satisfies(a -> assertThat(a.chunks()).isEqualTo(BitSet.valueOf(new long[] {0b11})));
  }

  @Test
  void startedRequest_keepsItsIdleTime_whenOneSentBeforeItStartsLater() {
    RequestPlanner p = new RequestPlanner(1, 2, 2, 100, 1000, "r");
    BitSet missing = all(4);
    assertThat(p.plan(0, f -> missing)).hasSize(2); // {0,1}, {2,3}

    // The second request starts first, then stalls; the first starts after it.
    arrived(p, missing, 2, 10);
    arrived(p, missing, 0, 20);

    // The second gets no first-chunk time again: idle since 10, it expires at 110.
    List<RequestPlanner.Ask> retry = p.plan(111, f -> missing);
    assertThat(retry)
        .singleElement()
        .satisfies(a -> assertThat(a.chunks()).isEqualTo(BitSet.valueOf(new long[] {0b1000})));
  }

  @Test
  void corruptChunk_isAskedForAgainAtOnce() {
    RequestPlanner p = new RequestPlanner(1, 1, 2, 100, 1000, "r");
    BitSet missing = all(2);
    p.plan(0, f -> missing);
    arrived(p, missing, 0, 1);

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
