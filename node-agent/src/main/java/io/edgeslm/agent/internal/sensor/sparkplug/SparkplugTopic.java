package io.edgeslm.agent.internal.sensor.sparkplug;

import java.util.Objects;
import java.util.Optional;

/**
 * A Sparkplug B topic, {@code spBv1.0/{group_id}/{message_type}/{edge_node_id}[/{device_id}]}
 * (Eclipse Sparkplug 3.0, section 4.1 "Topic Namespace Elements").
 *
 * @param group the Group ID
 * @param type the message type ({@code NBIRTH}, {@code DDATA}, ...)
 * @param edgeNode the Edge Node ID
 * @param device the Device ID, or null for node-level messages
 */
public record SparkplugTopic(String group, String type, String edgeNode, String device) {

  /** The namespace element of Sparkplug B topics. */
  public static final String NAMESPACE = "spBv1.0";

  public SparkplugTopic {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(edgeNode, "edgeNode");
  }

  /** Parses a topic name; empty for anything that is not a Sparkplug B node or device topic. */
  public static Optional<SparkplugTopic> parse(String topic) {
    String[] p = topic.split("/", -1);
    if ((p.length != 4 && p.length != 5) || !p[0].equals(NAMESPACE)) {
      return Optional.empty();
    }
    for (String level : p) {
      if (level.isEmpty()) {
        return Optional.empty();
      }
    }
    return Optional.of(new SparkplugTopic(p[1], p[2], p[3], p.length == 5 ? p[4] : null));
  }

  /** The edge node this message belongs to, {@code group/edgeNode}. */
  public String nodeKey() {
    return group + "/" + edgeNode;
  }

  /** The topic of a command to this edge node ({@code NCMD}). */
  public String nodeCommandTopic() {
    return NAMESPACE + "/" + group + "/NCMD/" + edgeNode;
  }
}
