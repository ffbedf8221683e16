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

  /**
   * The facts for a policy decision on a LoRA adapter named {@code adapter} on {@code channel}: an
   * adapter is not configured by name; it is accepted on a channel the node follows for its model
   * (what binds it to this node is the base model digest its signed release names, checked by the
   * update machine). On a channel the node does not follow, the release policy refuses it as {@code
   * wrong_channel}, naming the channel the node follows.
   */
  public NodeFacts adapterFacts(
      Map<ReleaseTrack, HighWaterMark> marks, Instant now, String adapter, String channel) {
    java.util.Map<String, String> assigned = new java.util.TreeMap<>(channels);
    if (!assigned.containsKey(adapter) && !channels.isEmpty()) {
      String follow =
          channels.containsValue(channel)
              ? channel
              : new java.util.TreeSet<>(channels.values()).first();
      assigned.put(adapter, follow);
    }
    return new NodeFacts(
        architecture, deviceClass, ramMb, labels, agentVersion, assigned, marks, now);
  }

  /** The facts for a policy decision now. */
  public NodeFacts facts(Map<ReleaseTrack, HighWaterMark> marks, Instant now) {
    return new NodeFacts(
        architecture, deviceClass, ramMb, labels, agentVersion, channels, marks, now);
  }
}
