package io.edgeslm.inference;

import java.time.Duration;
import java.util.Objects;

/**
 * Aggregated scheduler counters and recent latencies; a snapshot, cheap to take.
 *
 * @param queuedInteractive interactive requests waiting
 * @param queuedBatch batch requests waiting
 * @param running requests generating now
 * @param submitted requests admitted to the queue
 * @param completed requests that finished with a result (including cancelled ones)
 * @param cancelled requests cancelled by their caller
 * @param failed requests that failed in the engine (crash, hang, refusal)
 * @param rejectedBusy requests refused because the queue was full
 * @param rejectedBudget requests refused for their context or n_predict budget
 * @param deadlineExceeded requests whose deadline passed
 * @param workerRestarts engine worker restarts (summed over swapped engines)
 * @param modelSwaps completed model swaps
 * @param ttftP50 median time to first token over the last {@value #WINDOW} requests
 * @param ttftP95 95th percentile of the same
 * @param tokensPerSecond mean generation speed over the last {@value #WINDOW} requests
 * @param tokensGenerated tokens generated in total
 */
public record SchedulerMetrics(
    int queuedInteractive,
    int queuedBatch,
    int running,
    long submitted,
    long completed,
    long cancelled,
    long failed,
    long rejectedBusy,
    long rejectedBudget,
    long deadlineExceeded,
    long workerRestarts,
    long modelSwaps,
    Duration ttftP50,
    Duration ttftP95,
    double tokensPerSecond,
    long tokensGenerated) {

  /** Requests the latency figures cover. */
  public static final int WINDOW = 512;

  public SchedulerMetrics {
    Objects.requireNonNull(ttftP50, "ttftP50");
    Objects.requireNonNull(ttftP95, "ttftP95");
  }

  /** Requests waiting, both priorities. */
  public int queueDepth() {
    return queuedInteractive + queuedBatch;
  }
}
