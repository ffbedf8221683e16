package io.edgeslm.agent.internal.lifecycle;

import io.edgeslm.agent.internal.config.ValidatedConfig;
import io.edgeslm.agent.internal.sensor.DemoSimulator;
import io.edgeslm.agent.internal.serving.ServingTasks;
import io.edgeslm.protocol.NodeTopics;
import java.net.URI;
import java.time.Duration;

/** The start-up text that tells an operator how to ask the node a question. */
final class Banner {

  private Banner() {}

  /**
   * How a client reaches the agent's broker: over TLS (with the CA file the agent trusts, if it
   * names one) and whether the broker wants a user name and password.
   */
  record Access(boolean tls, String caFile, boolean password) {
    static final Access PLAIN = new Access(false, null, false);

    static Access of(String brokerUrl, java.util.Optional<String> caFile, boolean password) {
      String scheme = URI.create(brokerUrl).getScheme();
      boolean tls = "ssl".equals(scheme) || "mqtts".equals(scheme);
      return new Access(tls, tls ? caFile.orElse(null) : null, password);
    }
  }

  static String text(
      ValidatedConfig config,
      NodeTopics topics,
      String brokerUrl,
      Access access,
      ServingTasks serving,
      Duration demoPeriod,
      int managementPort) {
    URI uri = URI.create(brokerUrl);
    String host = uri.getHost();
    int port = uri.getPort() < 0 ? (access.tls() ? 8883 : 1883) : uri.getPort();
    // The options every mosquitto client needs for this broker: TLS with the CA and a client
    // certificate the broker's ACL lets ask this node, and credentials where the broker wants them.
    String hp =
        "-h "
            + host
            + " -p "
            + port
            + (access.tls()
                ? " --cafile "
                    + (access.caFile() == null ? "CA.crt" : access.caFile())
                    + " --cert CLIENT.crt --key CLIENT.key"
                : "")
            + (access.password() ? " -u USER -P PASSWORD" : "");
    String question =
        config.simulator()
            ? "What is the oil temperature of press 3?"
            : "What are the current sensor readings?";
    StringBuilder b = new StringBuilder();
    b.append("\n==== EdgeSLM node agent '")
        .append(config.nodeId())
        .append("' (site '")
        .append(config.site())
        .append("') is running ====\n");
    b.append("  Broker:  ")
        .append(brokerUrl)
        .append(config.embeddedBroker() ? "  (embedded MQTT 5 broker: no broker configured)" : "")
        .append('\n');
    config
        .fleetBrokerUrl()
        .ifPresent(
            f ->
                b.append("  Fleet:   ")
                    .append(f)
                    .append("  (birth, status, health, journal, updates; the broker above: the")
                    .append(" plant's)\n"));
    b.append("  Serving: ")
        .append(
            serving
                .model()
                .map(m -> "model " + m.name() + " v" + m.version() + " (" + m.digest() + ")")
                .orElse(
                    serving
                        .notReadyReason()
                        .map(why -> "rules until the model is ready (" + why + ")")
                        .orElse("rules (no model configured)")))
        .append('\n');
    b.append("  Sensors: ").append(config.sensors().size());
    if (config.simulator()) {
      b.append(" from the demo simulator; press 3's oil temperature leaves its normal range about ")
          .append(DemoSimulator.firstExcursionAfter(demoPeriod).toSeconds())
          .append(" s after start");
    }
    b.append("\n\nAsk it a question (MQTT 5, answer on the response topic):\n");
    if (access.tls()) {
      b.append(
              "  (TLS broker: CLIENT.crt/.key are a client certificate whose identity the broker's")
          .append(" ACL lets publish to the ask topic, see docs/deployment.md)\n");
    }
    b.append("  mosquitto_rr -V mqttv5 ")
        .append(hp)
        .append(" -t '")
        .append(topics.ask())
        .append("' -e 'operator/answers' -m '{\"question\":\"")
        .append(question)
        .append("\"}'\n");
    b.append("MQTT 3.1.1 clients name a reply topic in the question:\n");
    b.append("  mosquitto_sub ").append(hp).append(" -t 'operator/answers' -C 1 &\n");
    b.append("  mosquitto_pub ")
        .append(hp)
        .append(" -t '")
        .append(topics.ask())
        .append("' -m '{\"id\":\"q1\",\"replyTo\":\"operator/answers\",\"question\":\"")
        .append(question)
        .append("\"}'\n");
    if (!access.tls() && !access.password()) {
      b.append("Without mosquitto clients:\n");
      b.append("  ./run-agent ask \"").append(question).append("\"\n");
    } else {
      b.append(
          "(./run-agent ask speaks plain MQTT without credentials only: use the commands above.)\n");
    }
    b.append("Sensor reports: mosquitto_sub ")
        .append(hp)
        .append(" -t '")
        .append(topics.report())
        .append("'\n");
    b.append("Health and metrics: http://localhost:")
        .append(managementPort)
        .append("/q/health  http://localhost:")
        .append(managementPort)
        .append("/q/metrics\n");
    return b.toString();
  }
}
