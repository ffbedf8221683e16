package io.edgeslm.agent.internal.config;

import io.edgeslm.agent.internal.sensor.SensorSpec;
import io.edgeslm.protocol.ReplyNamespace;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The parts of the configuration that needed checking or deriving, in checked form.
 *
 * @param nodeId the node id (a topic level)
 * @param site the site (a topic level)
 * @param labels the node's labels, copied
 * @param brokerUrl the external (local) broker, or empty for the embedded one
 * @param fleetBrokerUrl the fleet broker, or empty when the local broker carries everything
 * @param sensors configured sensors, sorted by id (the demo's when the simulator runs)
 * @param modelPath the model file or bundle directory, or empty for rule-based mode
 * @param simulator whether the demo sensor simulator runs
 * @param journalDir the journal directory
 * @param replies where answers may be published
 * @param updates the checked update settings, present when updates are on
 * @param engine the engine models run on
 * @param escalation when and where questions may be handed on (off by default)
 */
public record ValidatedConfig(
    String nodeId,
    String site,
    Map<String, String> labels,
    Optional<URI> brokerUrl,
    Optional<URI> fleetBrokerUrl,
    List<SensorSpec> sensors,
    Optional<Path> modelPath,
    boolean simulator,
    Path journalDir,
    ReplyNamespace replies,
    Optional<UpdateConfig> updates,
    EngineChoice engine,
    io.edgeslm.agent.internal.escalation.EscalationSettings escalation) {

  public ValidatedConfig {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(site, "site");
    labels = Map.copyOf(labels);
    Objects.requireNonNull(brokerUrl, "brokerUrl");
    Objects.requireNonNull(fleetBrokerUrl, "fleetBrokerUrl");
    sensors = List.copyOf(sensors);
    Objects.requireNonNull(modelPath, "modelPath");
    Objects.requireNonNull(journalDir, "journalDir");
    Objects.requireNonNull(replies, "replies");
    Objects.requireNonNull(updates, "updates");
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(escalation, "escalation");
  }

  /** Whether a fleet broker is configured: then the agent holds two connections. */
  public boolean splitBrokers() {
    return fleetBrokerUrl.isPresent();
  }

  /** Whether the agent runs its own broker. */
  public boolean embeddedBroker() {
    return brokerUrl.isEmpty();
  }
}
