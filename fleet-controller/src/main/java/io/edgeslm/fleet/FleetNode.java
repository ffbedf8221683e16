package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import io.edgeslm.protocol.ModelRef;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the rollout engine knows about one node: identity, presence, facts from its birth message,
 * and the model it serves.
 *
 * @param nodeId the node id (its MQTT identity)
 * @param site the site id
 * @param online whether its retained status says online
 * @param arch CPU architecture
 * @param deviceClass device class
 * @param ramBytes physical memory
 * @param labels labels
 * @param activeModel the serving model, or null on a rules-only node
 */
public record FleetNode(
    String nodeId,
    String site,
    boolean online,
    String arch,
    String deviceClass,
    long ramBytes,
    Map<String, String> labels,
    ModelRef activeModel) {

  public FleetNode {
    Checks.identifier("nodeId", nodeId, 64);
    Checks.identifier("site", site, 64);
    Checks.required("arch", arch);
    Checks.required("deviceClass", deviceClass);
    Checks.range("ramBytes", ramBytes, 0, Long.MAX_VALUE);
    labels =
        labels == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(labels));
  }

  /** The serving model's digest, or null. */
  public String activeDigest() {
    return activeModel == null ? null : activeModel.digest();
  }
}
