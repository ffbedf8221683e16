package io.edgeslm.agent.internal.update;

import io.edgeslm.signing.HighWaterMark;
import io.edgeslm.signing.NodeFacts;
import io.edgeslm.signing.ReleaseTrack;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What the release policy needs to know about this node, from its configuration: the facts a
 * release targets, and which channel it follows for each model it may run (an assignment never
 * chooses these; a node not configured for a model refuses it).
 */
public record NodeProfile(
    String nodeId,
    String architecture,
    String deviceClass,
    long ramMb,
    Map<String, String> labels,
    String agentVersion,
    Map<String, String> channels) {

  public NodeProfile {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(deviceClass, "deviceClass");
    Objects.requireNonNull(agentVersion, "agentVersion");
    labels = Map.copyOf(labels);
    channels = Map.copyOf(channels);
  }

  /** The facts for a policy decision now. */
  public NodeFacts facts(Map<ReleaseTrack, HighWaterMark> marks, Instant now) {
    return new NodeFacts(
        architecture, deviceClass, ramMb, labels, agentVersion, channels, marks, now);
  }
}
