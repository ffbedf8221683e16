package io.edgeslm.agent.it;

import io.edgeslm.testkit.HarnessUnavailableException;
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
 * Two private Mosquitto brokers for the agent under test: a plant's local broker (sensors,
 * questions, reports) and the fleet broker (with persistence, so that a watcher's session outlives
 * the fleet broker's restart). Node {@code split-node} at site {@code two}, one sensor, fast
 * health, reports only on anomalies.
 */
public class TwoBrokersResource implements QuarkusTestResourceLifecycleManager {

  static final String SITE = "two";
  static final String NODE = "split-node";
  static final String OIL_TOPIC = "two/press3/oil_temp";

  static volatile MqttBroker local;
  static volatile MqttBroker fleet;
  static volatile Path journalDir;
  static volatile int managementPort;

  /** The plant's broker: a private Mosquitto (MQTT 5). */
  protected MqttBroker startLocal() throws HarnessUnavailableException {
    return MqttBroker.privateMosquitto(MosquittoConfig.defaults());
  }

  @Override
  public Map<String, String> start() {
    try {
      local = startLocal();
      fleet = MqttBroker.privateMosquitto(MosquittoConfig.defaults().withPersistence(true));
      journalDir = Files.createTempDirectory("agent-two-brokers-journal");
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        managementPort = s.getLocalPort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    Map<String, String> c = new HashMap<>();
    c.put("edgeslm.agent.broker.url", local.url());
    c.put("edgeslm.agent.fleet.broker.url", fleet.url());
    c.put("edgeslm.agent.fleet.broker.will-delay", "1s");
    c.put("edgeslm.agent.fleet.broker.max-reconnect-delay", "1s");
    c.put("edgeslm.agent.fleet.broker.connect-timeout", "2s");
    c.put("edgeslm.agent.broker.max-reconnect-delay", "1s");
    c.put("edgeslm.agent.node-id", NODE);
    c.put("edgeslm.management.port", Integer.toString(managementPort));
    c.put("edgeslm.agent.site", SITE);
    c.put("edgeslm.agent.health.interval", "300ms");
    c.put("edgeslm.agent.report.interval", "1h");
    c.put("edgeslm.agent.report.anomaly-debounce", "100ms");
    c.put("edgeslm.agent.journal.dir", journalDir.toString());
    c.put("edgeslm.agent.demo.simulator", "off");
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".topic", OIL_TOPIC);
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".unit", "°C");
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".alias", "Press 3 oil temperature");
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".normal-min", "40");
    c.put("edgeslm.agent.sensors.\"press3.oil_temp\".normal-max", "80");
    return c;
  }

  @Override
  public void stop() {
    if (local != null) {
      local.close();
    }
    if (fleet != null) {
      fleet.close();
    }
  }
}
