package io.edgeslm.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.fleet.sim.SimulatedFleet;
import io.edgeslm.protocol.ModelRef;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The rollout state machine against a simulated fleet. */
class RolloutEngineTest {

  static final ModelRef OLD = ModelRef.of("phi-mini", 3, "sha256:" + "a".repeat(64));
  static final ModelRef NEW = ModelRef.of("phi-mini", 4, "sha256:" + "b".repeat(64));
  static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z"); // a Monday
  static final ModelMetrics HEALTHY = new ModelMetrics(10, 20.0, 800.0, 0.01, 0.95);

  final RolloutEngine engine = new RolloutEngine();
  final List<AuditEvent> audit = new ArrayList<>();
  Instant now = T0;

  static RolloutPlan plan(List<Wave> waves, Thresholds th, HealthGate gate) {
    return new RolloutPlan("phi-mini v4", "b-1", NEW, NodeSelector.ALL, waves, th, gate, List.of());
  }

  static SimulatedFleet fleet(int n) {
    return new SimulatedFleet()
        .addNodes("gw", n, OLD, Map.of("line", "a"), T0.minus(Duration.ofDays(1)))
        .perform(OLD, HEALTHY)
        .perform(NEW, HEALTHY);
  }

  RolloutState create(RolloutPlan plan) {
    RolloutStep step = engine.create("r1", plan, "alice", now);
    audit.addAll(step.audit());
    return step.state();
  }

  /** Ticks every {@code every} until {@code until}, delivering actions to the fleet. */
  RolloutState run(RolloutState s, SimulatedFleet fleet, Duration every, Instant until) {
    while (!now.isAfter(until)) {
      fleet.advanceTo(now);
      RolloutStep step = engine.tick(s, fleet, now);
      fleet.deliver(step.actions(), s.plan().model(), now);
      audit.addAll(step.audit());
      s = step.state();
      now = now.plus(every);
    }
    return s;
  }

  List<String> actions() {
    return audit.stream().map(AuditEvent::action).toList();
  }

  @Test
  void tick_healthyFleet_advancesThroughCanaryAndPercentWavesToCompletion() {
    SimulatedFleet fleet = fleet(100);
    RolloutState s =
        create(plan(List.of(Wave.count(5), Wave.percent(50), Wave.percent(100)), null, null));

    RolloutStep first = engine.tick(s, fleet, now);
    assertThat(first.actions()).hasSize(5).allMatch(a -> a instanceof RolloutAction.Dispatch);
    assertThat(first.state().waves().get(0).state()).isEqualTo(WaveState.ACTIVE);
    assertThat(first.state().revision()).isEqualTo(1);

    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofHours(1)));

    assertThat(s.status()).isEqualTo(RolloutStatus.COMPLETED);
    assertThat(s.waves()).extracting(WaveProgress::size).containsExactly(5, 45, 50);
    assertThat(fleet.countServing(NEW)).isEqualTo(100);
    assertThat(fleet.dispatches().values()).hasSize(100).allMatch(c -> c == 1);
    assertThat(actions())
        .containsSubsequence(
            "created",
            "wave-started",
            "wave-passed",
            "wave-started",
            "wave-passed",
            "wave-started",
            "wave-passed",
            "completed");
  }

  @Test
  void tick_errorsAboveThreshold_pausesAndResumeAcceptsTheFailures() throws Exception {
    SimulatedFleet fleet = fleet(40);
    RolloutState s =
        create(
            plan(
                List.of(Wave.count(10), Wave.percent(100)),
                new Thresholds(90, 5, ErrorAction.PAUSE, Duration.ofHours(1)),
                null));
    RolloutStep first = engine.tick(s, fleet, now);
    String failingNode = first.actions().get(0).nodeId();
    fleet.failInstalls(failingNode);
    fleet.deliver(first.actions(), NEW, now);
    s = first.state();
    now = now.plus(Duration.ofMinutes(1));

    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(30)));

    assertThat(s.status()).isEqualTo(RolloutStatus.PAUSED);
    assertThat(s.targets().get(failingNode).phase()).isEqualTo(TargetPhase.FAILED);
    assertThat(s.targets().get(failingNode).reason())
        .isEqualTo("activation check failed: score 0.10 < 0.50");
    assertThat(audit.get(audit.size() - 1).detail())
        .isEqualTo(
            "wave 1 of 2: 1 of 10 nodes failed (10.0%), above the error threshold of 5.0%."
                + " Inspect the failed nodes, then resume to accept them or abort.");
    assertThat(fleet.dispatches()).hasSize(10);

    RolloutStep resumed = engine.resume(s, "bob", "node gw-x has a bad disk", now);
    assertThat(resumed.state().waves().get(0).acceptedFailures()).isEqualTo(1);
    audit.addAll(resumed.audit());
    s = run(resumed.state(), fleet, Duration.ofMinutes(1), now.plus(Duration.ofMinutes(30)));

    assertThat(s.status()).isEqualTo(RolloutStatus.COMPLETED);
    assertThat(fleet.countServing(NEW)).isEqualTo(39);
    assertThat(audit).anyMatch(e -> e.action().equals("resumed") && e.actor().equals("bob"));
  }

  @Test
  void tick_errorActionAbort_abortsAndWithdrawsPendingAssignments() {
    SimulatedFleet fleet = fleet(20).installTime(Duration.ofMinutes(1));
    RolloutState s =
        create(
            plan(
                List.of(Wave.count(4), Wave.percent(100)),
                new Thresholds(100, 0, ErrorAction.ABORT, Duration.ofMinutes(10)),
                null));
    RolloutStep first = engine.tick(s, fleet, now);
    fleet.silence(first.actions().get(1).nodeId());
    fleet.failInstalls(first.actions().get(0).nodeId());
    fleet.deliver(first.actions(), NEW, now);

    s = run(first.state(), fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(20)));

    assertThat(s.status()).isEqualTo(RolloutStatus.ABORTED);
    assertThat(s.waves().get(0).state()).isEqualTo(WaveState.FAILED);
    assertThat(s.targets().get(first.actions().get(1).nodeId()).phase())
        .isEqualTo(TargetPhase.CANCELLED);
    assertThat(fleet.dispatches()).hasSize(4);
  }

  @Test
  void abort_byOperator_stopsDispatchingForGood() throws Exception {
    SimulatedFleet fleet = fleet(20);
    RolloutState s = create(plan(List.of(Wave.count(2), Wave.percent(100)), null, null));
    RolloutStep first = engine.tick(s, fleet, now);
    fleet.deliver(first.actions(), NEW, now);

    RolloutStep aborted = engine.abort(first.state(), "carol", "wrong bundle", now);
    fleet.deliver(aborted.actions(), NEW, now);

    assertThat(aborted.state().status()).isEqualTo(RolloutStatus.ABORTED);
    assertThat(aborted.actions()).hasSize(2).allMatch(a -> a instanceof RolloutAction.Cancel);
    assertThat(aborted.audit().get(0).detail())
        .isEqualTo("wrong bundle (2 pending assignments withdrawn)");
    s = run(aborted.state(), fleet, Duration.ofMinutes(5), T0.plus(Duration.ofHours(2)));
    assertThat(fleet.dispatches()).hasSize(2);
    assertThat(fleet.countServing(NEW)).isZero();
    assertThatThrownBy(() -> engine.resume(aborted.state(), "carol", "oops", now))
        .isInstanceOf(FleetConflictException.class)
        .hasMessage(
            "Cannot resume rollout 'r1': only a paused rollout can be resumed (status aborted,"
                + " wave 1 active). Check the rollout's status first.");
  }

  @Test
  void tick_healthGateFails_rollsBackTheWholeFleet() {
    SimulatedFleet fleet =
        fleet(50).perform(NEW, new ModelMetrics(10, 12.0, 900.0, 0.01, 0.9)); // 0.6x speed
    RolloutState s =
        create(
            plan(
                List.of(Wave.count(5), Wave.percent(100)),
                null,
                HealthGate.standard(Duration.ofMinutes(30))));

    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofHours(2)));

    assertThat(s.status()).isEqualTo(RolloutStatus.ROLLED_BACK);
    GateResult gate = s.waves().get(0).gate();
    assertThat(gate.passed()).isFalse();
    assertThat(gate.tokensPerSecondRatio()).isEqualTo(0.6);
    assertThat(gate.reason())
        .isEqualTo(
            "tokens per second fell to 0.60 of the previous model's (median of 5 nodes), below"
                + " the minimum ratio 0.90");
    assertThat(s.count(TargetPhase.ROLLBACK_SENT)).isEqualTo(5);
    assertThat(fleet.countServing(NEW)).isZero();
    assertThat(fleet.countServing(OLD)).isEqualTo(50);
    assertThat(fleet.dispatches()).hasSize(5);
    assertThat(actions()).containsSubsequence("soak-started", "gate-failed", "rolled-back");
  }

  @Test
  void tick_healthGatePasses_advancesAfterTheSoakOnly() {
    SimulatedFleet fleet = fleet(10);
    HealthGate gate = HealthGate.standard(Duration.ofMinutes(30));
    RolloutState s = create(plan(List.of(Wave.count(2), Wave.percent(100)), null, gate));

    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(20)));
    assertThat(s.waves().get(0).state()).isEqualTo(WaveState.SOAKING);
    assertThat(fleet.dispatches()).hasSize(2);

    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofHours(3)));
    assertThat(s.status()).isEqualTo(RolloutStatus.COMPLETED);
    assertThat(s.waves().get(0).gate().reason()).isEqualTo("all criteria held on 2 of 2 nodes");
    assertThat(s.waves().get(0).gate().p95LatencyRatio()).isEqualTo(1.0);
  }

  @Test
  void tick_noHealthDataAfterDataTimeout_failsTheGate() {
    SimulatedFleet fleet = new SimulatedFleet().addNodes("gw", 4, OLD, Map.of(), T0);
    HealthGate gate =
        new HealthGate(
            Duration.ofMinutes(10),
            Duration.ofHours(1),
            0.9,
            1.25,
            0.01,
            0,
            80,
            Duration.ofMinutes(20));
    RolloutState s = create(plan(List.of(Wave.count(2), Wave.percent(100)), null, gate));

    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(30)));
    assertThat(s.status()).isEqualTo(RolloutStatus.RUNNING);
    assertThat(s.waiting()).startsWith("health data on the new model: 0 of 2 installed nodes");

    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofHours(1)));
    assertThat(s.status()).isEqualTo(RolloutStatus.ROLLED_BACK);
    assertThat(s.waves().get(0).gate().reason())
        .isEqualTo(
            "only 0 of 2 installed nodes reported health on the new model within PT20M after the"
                + " soak; the gate needs 80.0%");
  }

  @Test
  void tick_outsideMaintenanceWindow_waitsAndStartsInsideIt() {
    SimulatedFleet fleet = fleet(10);
    MaintenanceWindow nightly =
        new MaintenanceWindow(
            Set.of(DayOfWeek.MONDAY), LocalTime.of(22, 0), LocalTime.of(2, 0), ZoneId.of("UTC"));
    RolloutPlan plan =
        new RolloutPlan(
            "night",
            "b-1",
            NEW,
            NodeSelector.ALL,
            List.of(Wave.count(2), Wave.percent(100)),
            null,
            null,
            List.of(nightly));
    RolloutState s = create(plan);

    s = run(s, fleet, Duration.ofMinutes(10), T0.plus(Duration.ofHours(11)).minusSeconds(1));
    assertThat(fleet.dispatches()).isEmpty();
    assertThat(s.waiting()).isEqualTo("a maintenance window to start wave 1 of 2");

    s = run(s, fleet, Duration.ofMinutes(10), T0.plus(Duration.ofHours(15)));
    assertThat(s.status()).isEqualTo(RolloutStatus.COMPLETED);
    assertThat(s.targets().values())
        .allSatisfy(
            t -> {
              assertThat(nightly.contains(t.assignedAt())).isTrue();
            });
  }

  @Test
  void maintenanceWindow_pastMidnight_belongsToTheDayItOpened() {
    MaintenanceWindow w =
        new MaintenanceWindow(
            Set.of(DayOfWeek.MONDAY),
            LocalTime.of(22, 0),
            LocalTime.of(2, 0),
            ZoneId.of("Europe/Berlin"));
    assertThat(w.contains(Instant.parse("2026-03-02T21:30:00Z"))).isTrue(); // Mon 22:30 CET
    assertThat(w.contains(Instant.parse("2026-03-03T00:30:00Z"))).isTrue(); // Tue 01:30 CET
    assertThat(w.contains(Instant.parse("2026-03-03T01:30:00Z"))).isFalse(); // Tue 02:30 CET
    assertThat(w.contains(Instant.parse("2026-03-03T21:30:00Z"))).isFalse(); // Tue 22:30 CET
  }

  @Test
  void tick_lateJoiners_areCountedInLaterWavesAndAssignedAfterCompletion() {
    SimulatedFleet fleet = fleet(10);
    RolloutState s = create(plan(List.of(Wave.count(2), Wave.percent(100)), null, null));
    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(2)));
    fleet.addNode("late-1", "plant-2", "amd64", Map.of(), OLD, now);

    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(30)));
    assertThat(s.status()).isEqualTo(RolloutStatus.COMPLETED);
    assertThat(s.targets()).containsKey("late-1");

    fleet.addNode("late-2", "plant-2", "amd64", Map.of(), OLD, now);
    fleet.addNode("late-3", "plant-2", "aarch64", Map.of(), OLD, now);
    fleet.setOnline("late-3", false);
    s = run(s, fleet, Duration.ofMinutes(1), now.plus(Duration.ofMinutes(10)));
    assertThat(s.targets()).containsKey("late-2").doesNotContainKey("late-3");
    assertThat(fleet.activeDigest("late-2")).isEqualTo(NEW.digest());
    assertThat(actions()).contains("late-joiners");

    fleet.setOnline("late-3", true);
    s = run(s, fleet, Duration.ofMinutes(1), now.plus(Duration.ofMinutes(10)));
    assertThat(fleet.countServing(NEW)).isEqualTo(13);
  }

  @Test
  void tick_selector_assignsOnlyMatchingNodes() {
    SimulatedFleet fleet =
        new SimulatedFleet()
            .addNodes("a", 5, OLD, Map.of("line", "a"), T0)
            .addNodes("b", 5, OLD, Map.of("line", "b"), T0);
    NodeSelector lineA =
        new NodeSelector(null, Set.of("amd64"), null, 1L << 30, Map.of("line", "a"));
    RolloutPlan plan =
        new RolloutPlan(
            "line a", "b-1", NEW, lineA, List.of(Wave.percent(100)), null, null, List.of());
    RolloutState s = create(plan);
    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(30)));
    assertThat(s.targets().keySet()).allMatch(id -> id.startsWith("a-")).hasSize(5);
  }

  @Test
  void approve_waveNeedingApproval_waitsThenProceeds() throws Exception {
    SimulatedFleet fleet = fleet(10);
    RolloutState s =
        create(plan(List.of(Wave.count(1), Wave.percent(100).withApproval()), null, null));
    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(30)));
    assertThat(s.waiting()).isEqualTo("approval of wave 2 of 2");
    assertThat(fleet.dispatches()).hasSize(1);

    RolloutStep approved = engine.approve(s, "dave", "canary looks fine", now);
    assertThat(approved.audit().get(0).detail()).isEqualTo("wave 2: canary looks fine");
    s = run(approved.state(), fleet, Duration.ofMinutes(1), now.plus(Duration.ofMinutes(30)));
    assertThat(s.status()).isEqualTo(RolloutStatus.COMPLETED);
    RolloutState done = s;
    assertThatThrownBy(() -> engine.approve(done, "dave", "again", now))
        .isInstanceOf(FleetConflictException.class)
        .hasMessage(
            "Cannot approve rollout 'r1': no wave waits for approval (status completed)."
                + " Check the rollout's status first.");
  }

  @Test
  void rollback_byOperatorAfterCompletion_sendsEveryInstalledNodeBack() throws Exception {
    SimulatedFleet fleet = fleet(8);
    RolloutState s = create(plan(List.of(Wave.percent(100)), null, null));
    s = run(s, fleet, Duration.ofMinutes(1), T0.plus(Duration.ofMinutes(30)));
    assertThat(fleet.countServing(NEW)).isEqualTo(8);

    RolloutStep rb = engine.rollback(s, "erin", "customer complaint", now);
    fleet.deliver(rb.actions(), NEW, now);

    assertThat(rb.state().status()).isEqualTo(RolloutStatus.ROLLED_BACK);
    assertThat(rb.actions())
        .hasSize(8)
        .allSatisfy(
            a -> assertThat(((RolloutAction.Rollback) a).previousDigest()).isEqualTo(OLD.digest()));
    assertThat(fleet.countServing(OLD)).isEqualTo(8);
  }

  @Test
  void tick_twoReplicasRacingOnOneStore_neverDispatchANodeTwice() throws Exception {
    SimulatedFleet fleet = fleet(500).installTime(Duration.ZERO);
    AtomicReference<RolloutState> store =
        new AtomicReference<>(
            create(
                plan(
                    List.of(Wave.count(10), Wave.percent(20), Wave.percent(60), Wave.percent(100)),
                    null,
                    null)));
    AtomicReference<Instant> clock = new AtomicReference<>(T0);
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> replicas = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < 2000 && store.get().status() != RolloutStatus.COMPLETED; i++) {
                  RolloutState read = store.get();
                  Instant at = clock.updateAndGet(c -> c.plusSeconds(1));
                  fleet.advanceTo(at);
                  RolloutStep step = engine.tick(read, fleet, at);
                  // Compare-and-set on the revision, as the database does: the loser sends nothing.
                  if (step.changed(read) && store.compareAndSet(read, step.state())) {
                    fleet.deliver(step.actions(), NEW, at);
                  }
                }
              });
      replicas.add(t);
      t.start();
    }
    start.countDown();
    for (Thread t : replicas) {
      t.join();
    }
    assertThat(store.get().status()).isEqualTo(RolloutStatus.COMPLETED);
    assertThat(fleet.dispatches()).hasSize(500);
    assertThat(fleet.dispatches().values()).allMatch(c -> c == 1);
  }

  @Test
  void plan_lastWaveBelowHundredPercent_isRejectedWithTheRule() {
    assertThatThrownBy(() -> plan(List.of(Wave.count(3), Wave.percent(50)), null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "the last wave must reach 100 percent so that every selected node is covered: got 50.0"
                + " percent. Add a final {\"percent\":100} wave.");
  }
}
