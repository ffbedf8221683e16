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

  static String text(
      ValidatedConfig config,
      NodeTopics topics,
      String brokerUrl,
      ServingTasks serving,
      Duration demoPeriod,
      int managementPort) {
    URI uri = URI.create(brokerUrl);
    String host = uri.getHost();
    int port = uri.getPort() < 0 ? 1883 : uri.getPort();
    String hp = "-h " + host + " -p " + port;
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
    b.append("Without mosquitto clients:\n");
    b.append("  ./run-agent ask \"").append(question).append("\"\n");
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
