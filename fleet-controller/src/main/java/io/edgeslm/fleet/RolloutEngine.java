package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The rollout state machine. It is pure: every method takes a state, the fleet as a {@link
 * FleetView} and the current time, and returns the next state with the node messages and audit
 * entries it implies. It reads no clock, sends nothing and stores nothing, so it is tested against
 * a simulated fleet and run unchanged by the controller (see {@code docs/fleet-controller.md}, "The
 * rollout model").
 *
 * <p>Commands ({@link #approve}, {@link #pause}, {@link #resume}, {@link #abort}, {@link
 * #rollback}) throw {@link FleetConflictException} when the rollout's state does not allow them.
 */
public final class RolloutEngine {

  /** How many wave transitions one {@link #tick} may make; bounds work per call. */
  private static final int MAX_TRANSITIONS_PER_TICK = 4 * RolloutPlan.MAX_WAVES + 4;

  /**
   * A new rollout, waiting to start its first wave at the next {@link #tick}.
   *
   * @param id 1 to 63 identifier characters, unique in the controller
   * @param actor who created it
   */
  public RolloutStep create(String id, RolloutPlan plan, String actor, Instant now) {
    Checks.required("plan", plan);
    List<WaveProgress> waves = new ArrayList<>();
    for (int i = 0; i < plan.waves().size(); i++) {
      waves.add(WaveProgress.pending(i));
    }
    RolloutState state =
        new RolloutState(
            id, plan, RolloutStatus.RUNNING, 0, waves, Map.of(), "", 0, actor, now, now);
    AuditEvent created =
        new AuditEvent(
            id,
            now,
            actor,
            "created",
            "rollout '"
                + plan.name()
                + "' of "
                + plan.model().name()
                + " v"
                + plan.model().version()
                + " in "
                + plan.waves().size()
                + " waves");
    return new RolloutStep(state, List.of(), List.of(created));
  }

  /**
   * Advances the rollout as far as the fleet allows at {@code now}: records install results, starts
   * waves, checks thresholds, evaluates health gates, rolls back on a failed gate, and after
   * completion assigns late-joining nodes that match the selector.
   */
  public RolloutStep tick(RolloutState state, FleetView fleet, Instant now) {
    Work w = new Work(state);
    if (!state.status().isFinal()) {
      collectResults(w, fleet, now);
    }
    switch (state.status()) {
      case RUNNING -> {
        for (int i = 0; i < MAX_TRANSITIONS_PER_TICK && w.status == RolloutStatus.RUNNING; i++) {
          if (!advance(w, fleet, now)) {
            break;
          }
        }
      }
      case COMPLETED -> assignLateJoiners(w, fleet, now);
      case PAUSED -> w.waiting("an operator to resume or abort");
      default -> w.waiting("");
    }
    return w.finish(now);
  }

  /** Approves the current wave, which waits for approval. */
  public RolloutStep approve(RolloutState state, String actor, String reason, Instant now)
      throws FleetConflictException {
    requireCommand(actor, reason);
    Work w = new Work(state);
    boolean waits =
        (state.status() == RolloutStatus.RUNNING || state.status() == RolloutStatus.PAUSED)
            && state.currentWave() < state.waves().size()
            && state.plan().waves().get(state.currentWave()).approval()
            && state.waves().get(state.currentWave()).state() == WaveState.PENDING
            && !state.waves().get(state.currentWave()).approved();
    if (!waits) {
      throw conflict(state, "approve", "no wave waits for approval");
    }
    w.waves.set(w.currentWave, w.waves.get(w.currentWave).approve());
    w.audit(now, actor, "approved", "wave " + (w.currentWave + 1) + ": " + reason);
    return w.finish(now);
  }

  /** Stops dispatching until {@link #resume}. */
  public RolloutStep pause(RolloutState state, String actor, String reason, Instant now)
      throws FleetConflictException {
    requireCommand(actor, reason);
    if (state.status() != RolloutStatus.RUNNING) {
      throw conflict(state, "pause", "only a running rollout can be paused");
    }
    Work w = new Work(state);
    w.status = RolloutStatus.PAUSED;
    w.audit(now, actor, "paused", reason);
    return w.finish(now);
  }

  /**
   * Continues a paused rollout. Failures of the current wave so far are accepted: they no longer
   * count against its error threshold nor its success share, so resuming after an error pause is
   * the operator's decision to go on without those nodes.
   */
  public RolloutStep resume(RolloutState state, String actor, String reason, Instant now)
      throws FleetConflictException {
    requireCommand(actor, reason);
    if (state.status() != RolloutStatus.PAUSED) {
      throw conflict(state, "resume", "only a paused rollout can be resumed");
    }
    Work w = new Work(state);
    w.status = RolloutStatus.RUNNING;
    if (w.currentWave < w.waves.size()) {
      int failed = w.members(w.currentWave, TargetPhase.FAILED);
      WaveProgress p = w.waves.get(w.currentWave);
      if (failed != p.acceptedFailures()) {
        w.waves.set(w.currentWave, p.accept(failed));
      }
    }
    w.audit(now, actor, "resumed", reason);
    return w.finish(now);
  }

  /** Stops for good; assignments not yet installed are withdrawn. */
  public RolloutStep abort(RolloutState state, String actor, String reason, Instant now)
      throws FleetConflictException {
    requireCommand(actor, reason);
    if (state.status().isFinal()) {
      throw conflict(state, "abort", "the rollout has already ended");
    }
    Work w = new Work(state);
    int withdrawn = w.cancelAssigned(now);
    w.status = RolloutStatus.ABORTED;
    w.waiting("");
    w.audit(now, actor, "aborted", reason + " (" + withdrawn + " pending assignments withdrawn)");
    return w.finish(now);
  }

  /**
   * Fleet-wide rollback: every node that installed the new model is told to return to its previous
   * one, and pending assignments are withdrawn. Allowed in any state but {@code ROLLED_BACK}.
   */
  public RolloutStep rollback(RolloutState state, String actor, String reason, Instant now)
      throws FleetConflictException {
    requireCommand(actor, reason);
    if (state.status() == RolloutStatus.ROLLED_BACK) {
      throw conflict(state, "roll back", "the rollout is already rolled back");
    }
    Work w = new Work(state);
    rollbackAll(w, now, actor, reason);
    return w.finish(now);
  }

  // ---- transitions ------------------------------------------------------------------------

  private static void collectResults(Work w, FleetView fleet, Instant now) {
    Duration timeout = w.plan().thresholds().resultTimeout();
    for (Target t : List.copyOf(w.targets.values())) {
      if (t.phase() != TargetPhase.ASSIGNED) {
        continue;
      }
      Optional<InstallResult> outcome = fleet.outcome(t.nodeId(), w.assignmentId(t.nodeId()));
      if (outcome.isPresent()) {
        InstallResult o = outcome.get();
        w.put(
            o.success()
                ? t.with(TargetPhase.INSTALLED, o.at(), null)
                : t.with(
                    TargetPhase.FAILED,
                    o.at(),
                    o.reason() == null ? "the node reported a failure" : o.reason()));
      } else if (!now.isBefore(t.assignedAt().plus(timeout))) {
        w.put(
            t.with(
                TargetPhase.FAILED,
                now,
                "no install result within " + timeout + " (the rollout's result timeout)"));
      }
    }
  }

  /** One wave transition; false when the rollout must wait. */
  private static boolean advance(Work w, FleetView fleet, Instant now) {
    RolloutPlan plan = w.plan();
    if (w.currentWave >= w.waves.size()) {
      w.status = RolloutStatus.COMPLETED;
      w.waiting("");
      w.audit(now, AuditEvent.CONTROLLER, "completed", w.targets.size() + " nodes assigned");
      return true;
    }
    int k = w.currentWave;
    Wave spec = plan.waves().get(k);
    WaveProgress p = w.waves.get(k);
    String waveName = "wave " + (k + 1) + " of " + w.waves.size();
    switch (p.state()) {
      case PENDING -> {
        if (spec.approval() && !p.approved()) {
          w.waiting("approval of " + waveName);
          return false;
        }
        if (!plan.inWindow(now)) {
          w.waiting("a maintenance window to start " + waveName);
          return false;
        }
        List<FleetNode> eligible = eligible(w, fleet);
        long already = w.targets.size();
        long population = already + eligible.size();
        long goal = spec.goal(already, population);
        int n = (int) Math.max(0, goal - already);
        List<FleetNode> chosen = eligible.stream().filter(FleetNode::online).limit(n).toList();
        for (FleetNode node : chosen) {
          w.assign(node, k, now);
        }
        w.waves.set(k, p.start(chosen.size(), now));
        w.audit(
            now,
            AuditEvent.CONTROLLER,
            "wave-started",
            waveName
                + ": "
                + chosen.size()
                + " nodes assigned (goal "
                + goal
                + " of "
                + population
                + " selected"
                + (chosen.size() < n ? ", " + (n - chosen.size()) + " offline left for later" : "")
                + ")");
        return true;
      }
      case ACTIVE -> {
        return checkThresholds(w, now, k, waveName);
      }
      case SOAKING -> {
        if (now.isBefore(p.soakUntil())) {
          w.waiting("the soak of " + waveName + " until " + p.soakUntil());
          return false;
        }
        Optional<GateResult> result = evaluateGate(w, fleet, now, k);
        if (result.isEmpty()) {
          return false;
        }
        GateResult r = result.get();
        w.waves.set(k, p.gated(r));
        if (r.passed()) {
          w.audit(now, AuditEvent.CONTROLLER, "gate-passed", waveName + ": " + r.reason());
          w.currentWave++;
        } else {
          w.audit(now, AuditEvent.CONTROLLER, "gate-failed", waveName + ": " + r.reason());
          rollbackAll(w, now, AuditEvent.CONTROLLER, "the health gate of " + waveName + " failed");
        }
        return true;
      }
      case PASSED, FAILED -> {
        w.currentWave++;
        return true;
      }
      default -> throw new IllegalStateException("unknown wave state " + p.state());
    }
  }

  private static boolean checkThresholds(Work w, Instant now, int k, String waveName) {
    RolloutPlan plan = w.plan();
    Thresholds th = plan.thresholds();
    WaveProgress p = w.waves.get(k);
    int installed = w.members(k, TargetPhase.INSTALLED);
    int failed = w.members(k, TargetPhase.FAILED);
    int pending = w.members(k, TargetPhase.ASSIGNED);
    int counted = Math.max(0, p.size() - p.acceptedFailures());
    int countedFailures = Math.max(0, failed - p.acceptedFailures());
    if (counted > 0 && 100.0 * countedFailures / counted > th.errorPercent()) {
      String why =
          waveName
              + ": "
              + countedFailures
              + " of "
              + counted
              + " nodes failed ("
              + pct(100.0 * countedFailures / counted)
              + "), above the error threshold of "
              + pct(th.errorPercent());
      switch (th.onErrors()) {
        case PAUSE -> {
          w.status = RolloutStatus.PAUSED;
          w.waiting("an operator to resume or abort");
          w.audit(
              now,
              AuditEvent.CONTROLLER,
              "paused",
              why + ". Inspect the failed nodes, then resume to accept them or abort.");
        }
        case ABORT -> {
          int withdrawn = w.cancelAssigned(now);
          w.waves.set(k, w.waves.get(k).withState(WaveState.FAILED));
          w.status = RolloutStatus.ABORTED;
          w.waiting("");
          w.audit(
              now,
              AuditEvent.CONTROLLER,
              "aborted",
              why + " (" + withdrawn + " pending assignments withdrawn)");
        }
        case ROLLBACK -> rollbackAll(w, now, AuditEvent.CONTROLLER, why);
        default -> throw new IllegalStateException("unknown error action " + th.onErrors());
      }
      return true;
    }
    boolean succeeded = counted == 0 || 100.0 * installed / counted >= th.successPercent();
    if (succeeded) {
      HealthGate gate = plan.gate();
      if (gate != null) {
        w.waves.set(k, p.soak(now.plus(gate.soak())));
        w.audit(
            now,
            AuditEvent.CONTROLLER,
            "soak-started",
            waveName
                + ": "
                + installed
                + " of "
                + counted
                + " installed; health gate due at "
                + now.plus(gate.soak()));
      } else {
        w.waves.set(k, p.withState(WaveState.PASSED));
        w.audit(
            now,
            AuditEvent.CONTROLLER,
            "wave-passed",
            waveName + ": " + installed + " of " + counted + " installed");
        w.currentWave++;
      }
      return true;
    }
    if (pending == 0) {
      w.status = RolloutStatus.PAUSED;
      w.waiting("an operator to resume or abort");
      w.audit(
          now,
          AuditEvent.CONTROLLER,
          "paused",
          waveName
              + " ended with "
              + installed
              + " of "
              + counted
              + " nodes installed ("
              + pct(100.0 * installed / counted)
              + "), below the success threshold of "
              + pct(th.successPercent())
              + ". Resume to go on without the failed nodes, or abort.");
      return true;
    }
    w.waiting(
        "install results of "
            + waveName
            + ": "
            + installed
            + " installed, "
            + failed
            + " failed, "
            + pending
            + " pending");
    return false;
  }

  /** The gate's result, or empty while it waits for health data. */
  private static Optional<GateResult> evaluateGate(Work w, FleetView fleet, Instant now, int k) {
    HealthGate gate = w.plan().gate();
    String digest = w.plan().model().digest();
    List<Double> speed = new ArrayList<>();
    List<Double> latency = new ArrayList<>();
    List<Double> errorDelta = new ArrayList<>();
    Double minScore = null;
    int installed = 0;
    int measured = 0;
    for (Target t : w.targets.values()) {
      if (t.wave() != k || t.phase() != TargetPhase.INSTALLED) {
        continue;
      }
      installed++;
      Optional<ModelMetrics> after = fleet.metrics(t.nodeId(), digest, t.resultAt(), now);
      if (after.isEmpty()) {
        continue;
      }
      measured++;
      ModelMetrics a = after.get();
      if (a.activationScore() != null) {
        minScore = minScore == null ? a.activationScore() : Math.min(minScore, a.activationScore());
      }
      if (t.previousDigest() == null) {
        continue;
      }
      Optional<ModelMetrics> before =
          fleet.metrics(
              t.nodeId(),
              t.previousDigest(),
              t.assignedAt().minus(gate.baseline()),
              t.assignedAt());
      if (before.isEmpty()) {
        continue;
      }
      ModelMetrics b = before.get();
      if (b.tokensPerSecond() != null && b.tokensPerSecond() > 0 && a.tokensPerSecond() != null) {
        speed.add(a.tokensPerSecond() / b.tokensPerSecond());
      }
      if (b.p95LatencyMs() != null && b.p95LatencyMs() > 0 && a.p95LatencyMs() != null) {
        latency.add(a.p95LatencyMs() / b.p95LatencyMs());
      }
      if (b.errorRate() != null && a.errorRate() != null) {
        errorDelta.add(a.errorRate() - b.errorRate());
      }
    }
    Double speedRatio = median(speed);
    Double latencyRatio = median(latency);
    Double errorIncrease =
        errorDelta.isEmpty()
            ? null
            : errorDelta.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    if (installed == 0) {
      return Optional.of(
          new GateResult(
              false,
              0,
              0,
              null,
              null,
              null,
              null,
              "no node of the wave installed the bundle, so the new model could not be measured",
              now));
    }
    if (100.0 * measured / installed < gate.minMeasuredPercent()) {
      Instant deadline = w.waves.get(k).soakUntil().plus(gate.dataTimeout());
      if (now.isBefore(deadline)) {
        w.waiting(
            "health data on the new model: "
                + measured
                + " of "
                + installed
                + " installed nodes reported, "
                + pct(gate.minMeasuredPercent())
                + " needed by "
                + deadline);
        return Optional.empty();
      }
      return Optional.of(
          new GateResult(
              false,
              measured,
              installed,
              speedRatio,
              latencyRatio,
              errorIncrease,
              minScore,
              "only "
                  + measured
                  + " of "
                  + installed
                  + " installed nodes reported health on the new model within "
                  + gate.dataTimeout()
                  + " after the soak; the gate needs "
                  + pct(gate.minMeasuredPercent()),
              now));
    }
    String failure = null;
    if (speedRatio != null && speedRatio < gate.minTokensPerSecondRatio()) {
      failure =
          "tokens per second fell to "
              + num(speedRatio)
              + " of the previous model's (median of "
              + speed.size()
              + " nodes), below the minimum ratio "
              + num(gate.minTokensPerSecondRatio());
    } else if (latencyRatio != null && latencyRatio > gate.maxP95LatencyRatio()) {
      failure =
          "p95 latency rose to "
              + num(latencyRatio)
              + " times the previous model's (median of "
              + latency.size()
              + " nodes), above the maximum ratio "
              + num(gate.maxP95LatencyRatio());
    } else if (errorIncrease != null && errorIncrease > gate.maxErrorRateIncrease()) {
      failure =
          "the error rate rose by "
              + num(errorIncrease)
              + " (mean of "
              + errorDelta.size()
              + " nodes), above the allowed increase "
              + num(gate.maxErrorRateIncrease());
    } else if (minScore != null && minScore < gate.minActivationScore()) {
      failure =
          "the lowest activation-check score is "
              + num(minScore)
              + ", below the minimum "
              + num(gate.minActivationScore());
    }
    return Optional.of(
        new GateResult(
            failure == null,
            measured,
            installed,
            speedRatio,
            latencyRatio,
            errorIncrease,
            minScore,
            failure == null
                ? "all criteria held on " + measured + " of " + installed + " nodes"
                : failure,
            now));
  }

  private static void assignLateJoiners(Work w, FleetView fleet, Instant now) {
    List<FleetNode> late = eligible(w, fleet).stream().filter(FleetNode::online).toList();
    if (late.isEmpty()) {
      w.waiting("");
      return;
    }
    if (!w.plan().inWindow(now)) {
      w.waiting("a maintenance window to assign " + late.size() + " late-joining nodes");
      return;
    }
    int last = w.waves.size() - 1;
    for (FleetNode node : late) {
      w.assign(node, last, now);
    }
    w.waves.set(last, w.waves.get(last).grow(late.size()));
    w.waiting("");
    w.audit(
        now,
        AuditEvent.CONTROLLER,
        "late-joiners",
        late.size() + " nodes that joined after completion assigned");
  }

  private static void rollbackAll(Work w, Instant now, String actor, String why) {
    int told = 0;
    for (Target t : List.copyOf(w.targets.values())) {
      if (t.phase() == TargetPhase.INSTALLED) {
        w.put(t.with(TargetPhase.ROLLBACK_SENT, now, why));
        w.actions.add(
            new RolloutAction.Rollback(
                t.nodeId(), t.site(), w.assignmentId(t.nodeId()), t.previousDigest()));
        told++;
      }
    }
    int withdrawn = w.cancelAssigned(now);
    if (w.currentWave < w.waves.size()) {
      WaveProgress p = w.waves.get(w.currentWave);
      if (p.state() != WaveState.FAILED && p.state() != WaveState.PENDING) {
        w.waves.set(w.currentWave, p.withState(WaveState.FAILED));
      }
    }
    w.status = RolloutStatus.ROLLED_BACK;
    w.waiting("");
    w.audit(
        now,
        actor,
        "rolled-back",
        why
            + ": "
            + told
            + " nodes told to return to their previous model, "
            + withdrawn
            + " pending assignments withdrawn");
  }

  /**
   * Nodes the selector matches that are not in the rollout and do not already serve the model (the
   * rule {@link SelectionPreview} shows before a rollout is created).
   */
  private static List<FleetNode> eligible(Work w, FleetView fleet) {
    String digest = w.plan().model().digest();
    NodeSelector selector = w.plan().selector();
    String salt = w.id;
    return fleet.nodes().stream()
        .filter(n -> !w.targets.containsKey(n.nodeId()))
        .filter(n -> SelectionPreview.wouldUpdate(selector, digest, n))
        // A per-rollout pseudo-random order spreads canaries over sites and device classes
        // instead of always picking the alphabetically first nodes.
        .sorted(
            Comparator.comparingInt((FleetNode n) -> mix((salt + "/" + n.nodeId()).hashCode()))
                .thenComparing(FleetNode::nodeId))
        .toList();
  }

  private static int mix(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    return h ^ (h >>> 16);
  }

  private static Double median(List<Double> values) {
    if (values.isEmpty()) {
      return null;
    }
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String pct(double value) {
    return String.format(Locale.ROOT, "%.1f%%", value);
  }

  private static String num(double value) {
    return String.format(Locale.ROOT, "%.2f", value);
  }

  private static void requireCommand(String actor, String reason) {
    Checks.text("actor", actor, 128);
    Checks.text("reason", reason, 500);
  }

  private static FleetConflictException conflict(RolloutState s, String verb, String rule) {
    return new FleetConflictException(
        "Cannot "
            + verb
            + " rollout '"
            + s.id()
            + "': "
            + rule
            + " (status "
            + s.status().name().toLowerCase(Locale.ROOT)
            + (s.currentWave() < s.waves().size()
                ? ", wave "
                    + (s.currentWave() + 1)
                    + " "
                    + s.waves().get(s.currentWave()).state().name().toLowerCase(Locale.ROOT)
                : "")
            + "). Check the rollout's status first.");
  }

  /** A mutable working copy of one state during one call. */
  private static final class Work {
    final RolloutState before;
    final String id;
    RolloutStatus status;
    int currentWave;
    final List<WaveProgress> waves;
    final TreeMap<String, Target> targets;
    String waiting;
    final List<RolloutAction> actions = new ArrayList<>();
    final List<AuditEvent> audit = new ArrayList<>();
    boolean changed;

    Work(RolloutState s) {
      before = s;
      id = s.id();
      status = s.status();
      currentWave = s.currentWave();
      waves = new ArrayList<>(s.waves());
      targets = new TreeMap<>(s.targets());
      waiting = s.waiting();
    }

    RolloutPlan plan() {
      return before.plan();
    }

    String assignmentId(String nodeId) {
      return before.assignmentId(nodeId);
    }

    void put(Target t) {
      targets.put(t.nodeId(), t);
      changed = true;
    }

    void assign(FleetNode node, int wave, Instant now) {
      put(
          new Target(
              node.nodeId(),
              node.site(),
              wave,
              TargetPhase.ASSIGNED,
              now,
              null,
              node.activeDigest(),
              null));
      actions.add(
          new RolloutAction.Dispatch(node.nodeId(), node.site(), assignmentId(node.nodeId())));
    }

    int cancelAssigned(Instant now) {
      int n = 0;
      for (Target t : List.copyOf(targets.values())) {
        if (t.phase() == TargetPhase.ASSIGNED) {
          put(t.with(TargetPhase.CANCELLED, now, "assignment withdrawn"));
          actions.add(new RolloutAction.Cancel(t.nodeId(), t.site(), assignmentId(t.nodeId())));
          n++;
        }
      }
      return n;
    }

    int members(int wave, TargetPhase phase) {
      int n = 0;
      for (Target t : targets.values()) {
        if (t.wave() == wave && t.phase() == phase) {
          n++;
        }
      }
      return n;
    }

    void waiting(String what) {
      waiting = what;
    }

    void audit(Instant at, String actor, String action, String detail) {
      audit.add(new AuditEvent(id, at, actor, action, detail));
      changed = true;
    }

    RolloutStep finish(Instant now) {
      boolean differs =
          changed
              || status != before.status()
              || currentWave != before.currentWave()
              || !waves.equals(before.waves())
              || !waiting.equals(before.waiting());
      if (!differs) {
        return new RolloutStep(before, List.of(), List.of());
      }
      RolloutState next =
          new RolloutState(
              id,
              before.plan(),
              status,
              currentWave,
              waves,
              targets,
              waiting,
              before.revision() + 1,
              before.createdBy(),
              before.createdAt(),
              now);
      return new RolloutStep(next, actions, audit);
    }
  }
}
