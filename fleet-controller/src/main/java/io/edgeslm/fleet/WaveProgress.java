package io.edgeslm.fleet;

import java.time.Instant;

/**
 * The state of one wave.
 *
 * @param index position in the plan, from 0
 * @param state where it is
 * @param approved whether an operator approved it (only meaningful when the wave needs approval)
 * @param size nodes it assigned
 * @param startedAt when it started; null while pending
 * @param soakUntil when its health gate is due; null before soaking
 * @param acceptedFailures failures an operator accepted by resuming; only later ones count against
 *     the error threshold
 * @param gate the gate's result; null before it was evaluated
 */
public record WaveProgress(
    int index,
    WaveState state,
    boolean approved,
    int size,
    Instant startedAt,
    Instant soakUntil,
    int acceptedFailures,
    GateResult gate) {

  static WaveProgress pending(int index) {
    return new WaveProgress(index, WaveState.PENDING, false, 0, null, null, 0, null);
  }

  WaveProgress withState(WaveState s) {
    return new WaveProgress(index, s, approved, size, startedAt, soakUntil, acceptedFailures, gate);
  }

  WaveProgress approve() {
    return new WaveProgress(index, state, true, size, startedAt, soakUntil, acceptedFailures, gate);
  }

  WaveProgress start(int n, Instant at) {
    return new WaveProgress(index, WaveState.ACTIVE, approved, n, at, null, acceptedFailures, gate);
  }

  WaveProgress soak(Instant until) {
    return new WaveProgress(
        index, WaveState.SOAKING, approved, size, startedAt, until, acceptedFailures, gate);
  }

  WaveProgress accept(int failures) {
    return new WaveProgress(index, state, approved, size, startedAt, soakUntil, failures, gate);
  }

  WaveProgress grow(int more) {
    return new WaveProgress(
        index, state, approved, size + more, startedAt, soakUntil, acceptedFailures, gate);
  }

  WaveProgress gated(GateResult result) {
    return new WaveProgress(
        index,
        result.passed() ? WaveState.PASSED : WaveState.FAILED,
        approved,
        size,
        startedAt,
        soakUntil,
        acceptedFailures,
        result);
  }
}
