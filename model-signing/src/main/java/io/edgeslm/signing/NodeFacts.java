package io.edgeslm.signing;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What a node knows about itself when it decides whether to activate a release. Built by the agent
 * from its inventory, its persisted high-water marks, the controller's assignment and its clock.
 *
 * @param architecture {@code x86_64} or {@code aarch64}
 * @param deviceClass the node's device class
 * @param ramMb installed RAM in MiB
 * @param labels the node's labels
 * @param agentVersion the running agent's version, dotted numbers
 * @param assignedChannels model name → channel the node follows for it; a model not listed is not
 *     assigned to this node
 * @param highWaterMarks the installed high-water mark per track
 * @param now the current time (read by the caller: records never read the clock)
 */
public record NodeFacts(
    String architecture,
    String deviceClass,
    long ramMb,
    Map<String, String> labels,
    String agentVersion,
    Map<String, String> assignedChannels,
    Map<ReleaseTrack, HighWaterMark> highWaterMarks,
    Instant now) {

  public NodeFacts {
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(deviceClass, "deviceClass");
    Objects.requireNonNull(agentVersion, "agentVersion");
    Objects.requireNonNull(now, "now");
    if (ramMb < 0) {
      throw new IllegalArgumentException("ramMb must be 0 or more, got " + ramMb);
    }
    labels = Map.copyOf(labels);
    assignedChannels = Map.copyOf(assignedChannels);
    highWaterMarks = Map.copyOf(highWaterMarks);
  }
}
