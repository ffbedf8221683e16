package io.edgeslm.fleet.api;

import io.edgeslm.fleet.TestDatabases;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.testkit.MqttBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Starts what the Quarkus application needs for a test: a private Mosquitto, a fresh H2 database
 * (or PostgreSQL with arg {@code db=postgresql}), a bundle directory and a trusted release key.
 */
public class ControllerTestResource implements QuarkusTestResourceLifecycleManager {

  /** The release key the application trusts; tests sign bundles with it. */
  public static final SigningKey KEY = SigningKey.generate(KeyCurve.P256);

  public static final String ADMIN_TOKEN = "fct_test-bootstrap-admin-0123456789";

  private MqttBroker broker;
  private String db = "h2";

  @Override
  public void init(Map<String, String> args) {
    db = args.getOrDefault("db", "h2");
  }

  @Override
  public Map<String, String> start() {
    try {
      broker = MqttBroker.privateMosquitto();
      Path dir = Files.createTempDirectory("fleet-api-");
      Path pub = dir.resolve("release.pub.pem");
      KEY.writePublicKey(pub);
      Map<String, String> common =
          Map.of(
              "fleet.mqtt.uri",
              broker.url(),
              "fleet.bundles.dir",
              dir.resolve("bundles").toString(),
              "fleet.bundles.chunk-bytes",
              "16384",
              "fleet.trust.keys",
              pub.toString(),
              "fleet.rollouts.tick",
              "PT0.2S",
              "fleet.auth.bootstrap-admin-token",
              ADMIN_TOKEN);
      java.util.HashMap<String, String> config = new java.util.HashMap<>(common);
      if (db.equals("postgresql")) {
        config.put("fleet.database", "postgresql");
        config.put("quarkus.datasource.active", "false");
        config.put("quarkus.datasource.pg.active", "true");
        config.put("quarkus.datasource.pg.jdbc.url", TestDatabases.newPostgresUrl());
        config.put("quarkus.datasource.pg.username", TestDatabases.PG_USER);
      } else {
        config.put("quarkus.datasource.jdbc.url", TestDatabases.newH2Url());
      }
      return config;
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the test services: " + e.getMessage(), e);
    }
  }

  @Override
  public void stop() {
    if (broker != null) {
      broker.close();
    }
  }
}
