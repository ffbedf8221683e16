package io.edgeslm.fleet.internal.store;

import java.time.Instant;

/**
 * The latest progress a node reported for one assignment.
 *
 * @param nodeId the node
 * @param assignmentId the assignment
 * @param phase downloading, verifying, activating or soaking, in lower case
 * @param bytesDone bytes verified and persisted so far
 * @param bytesTotal the assignment's total size
 * @param at when the node measured it
 */
public record DownloadProgress(
    String nodeId, String assignmentId, String phase, long bytesDone, long bytesTotal, Instant at) {

  /** Bytes done as a whole percentage of the total, 100 for an empty assignment. */
  public int percent() {
    return bytesTotal == 0 ? 100 : (int) Math.min(100, 100 * bytesDone / bytesTotal);
  }
}
