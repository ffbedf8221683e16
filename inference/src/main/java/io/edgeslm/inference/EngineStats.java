package io.edgeslm.inference;

/**
 * Engine counters since it was opened.
 *
 * @param workerPid current worker process id, or -1 (HTTP backend, or no worker running)
 * @param workerRestarts workers started after the first one (crashes, hangs)
 * @param requestsStarted generations sent to the engine
 * @param requestsFailed generations that ended with an engine failure
 * @param tokensGenerated tokens streamed back
 * @param running generations running now
 */
public record EngineStats(
    long workerPid,
    long workerRestarts,
    long requestsStarted,
    long requestsFailed,
    long tokensGenerated,
    int running) {

  public EngineStats {
    if (workerRestarts < 0
        || requestsStarted < 0
        || requestsFailed < 0
        || tokensGenerated < 0
        || running < 0) {
      throw new IllegalArgumentException("Counters cannot be negative");
    }
  }
}
