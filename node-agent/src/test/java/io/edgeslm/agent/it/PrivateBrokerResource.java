package io.edgeslm.agent.it;

import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A private Mosquitto (with persistence, so a restart keeps test clients' sessions) for the agent
 * under test, plus the agent configuration that points at it: node {@code it-node} at site {@code
 * it}, two sensors, fast health, reports only on anomalies.
 */
public class PrivateBrokerResource implements QuarkusTestResourceLifecycleManager {

  static final String SITE = "it";
  static final String NODE = "it-node";
  static final String OIL_TOPIC = "it/press3/oil_temp";
  static final String PRESSURE_TOPIC = "it/press3/hydraulic_pressure";

  static volatile MqttBroker broker;
  static volatile Path journalDir;
  static volatile int managementPort;

  @Override
  public Map<String, String> start() {
    try {
      broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults().withPersistence(true));
      journalDir = Files.createTempDirectory("agent-it-journal");
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        managementPort = s.getLocalPort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    Map<String, String> c = new HashMap<>();
    c.put("edgeslm.agent.broker.url", broker.url());
    c.put("edgeslm.agent.node-id", NODE);
    c.put("edgeslm.management.port", Integer.toString(managementPort));
    c.put("edgeslm.agent.site", SITE);
    c.put("edgeslm.agent.labels.line", "it-line");
    c.put("edgeslm.agent.broker.will-delay", "1s");
    c.put("edgeslm.agent.broker.max-reconnect-delay", "2s");
    c.put("edgeslm.agent.health.interval", "300ms");
    c.put("edgeslm.agent.report.interval", "1h");
    c.put("edgeslm.agent.report.anomaly-debounce", "100ms");
    c.put("edgeslm.agent.qa.queue", "8");
    c.put("edgeslm.agent.journal.dir", journalDir.toString());
    c.put("edgeslm.agent.demo.simulator", "off");
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".topic", OIL_TOPIC);
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".unit", "°C");
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".alias", "Press 3 oil temperature");
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".normal-min", "40");
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".normal-max", "80");
    c.put("edgeslm.agent.sensors.\"press3.hydraulic_pressure\".topic", PRESSURE_TOPIC);
    c.put("edgeslm.agent.sensors.\"press3.hydraulic_pressure\".unit", "bar");
    c.put(
        "edgeslm.agent.sensors.\"press3.hydraulic_pressure\".alias", "Press 3 hydraulic pressure");
    c.put("edgeslm.agent.sensors.\"press3.hydraulic_pressure\".normal-min", "150");
    c.put("edgeslm.agent.sensors.\"press3.hydraulic_pressure\".normal-max", "210");
    return c;
  }

  @Override
  public void stop() {
    if (broker != null) {
      broker.close();
    }
  }
}
