package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The node's facts, published retained on {@code edge/v1/{site}/{node}/birth} after every connect
 * and whenever a fact changes (e.g. a new active model). The controller's registry and rollout
 * target selectors work from these.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param agentVersion the node agent's version, e.g. {@code 0.1.0}
 * @param arch CPU architecture as the JVM names it: {@code amd64}, {@code aarch64}, …
 * @param deviceClass the operator-assigned hardware class, e.g. {@code gw-4g}
 * @param ramBytes physical memory
 * @param labels free key/value labels for target selectors (at most {@value #MAX_LABELS})
 * @param activeModel the model serving now; absent on a rules-only node
 * @param maxPacketBytes the largest MQTT packet the node accepts (its CONNECT maximum packet size),
 *     so the controller can size chunks; optional
 * @param bootedAt when the agent started
 * @param at when this message was produced
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeBirth(
    @JsonProperty(required = true) int schemaVersion,
    String agentVersion,
    String arch,
    String deviceClass,
    @JsonProperty(required = true) long ramBytes,
    Map<String, String> labels,
    ModelRef activeModel,
    Long maxPacketBytes,
    Instant bootedAt,
    Instant at) {

  /** Most labels. */
  public static final int MAX_LABELS = 32;

  public NodeBirth {
    Checks.schemaVersion("NodeBirth", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.identifier("agentVersion", agentVersion, 64);
    Checks.identifier("arch", arch, 32);
    Checks.identifier("deviceClass", deviceClass, 64);
    Checks.range("ramBytes", ramBytes, 1, Long.MAX_VALUE);
    labels = labels(labels);
    Checks.optionalRange("maxPacketBytes", maxPacketBytes, 1024, 268_435_455L);
    Checks.required("bootedAt", bootedAt);
    Checks.required("at", at);
  }

  static Map<String, String> labels(Map<String, String> labels) {
    if (labels == null) {
      return Map.of();
    }
    Checks.check(
        labels.size() <= MAX_LABELS,
        "labels must have at most "
            + MAX_LABELS
            + " entries: got "
            + labels.size()
            + ". Drop some labels.");
    TreeMap<String, String> copy = new TreeMap<>();
    for (Map.Entry<String, String> e : labels.entrySet()) {
      Checks.identifier("label key", e.getKey(), 64);
      copy.put(e.getKey(), Checks.boundedText("labels." + e.getKey(), e.getValue(), 128));
    }
    return Collections.unmodifiableMap(copy);
  }
}
