package io.edgeslm.fleet.internal.app;

import io.agroal.api.AgroalDataSource;
import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.Role;
import io.edgeslm.fleet.internal.config.FleetConfig;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.signing.VerificationKey;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Default;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/** Creates the one {@link FleetController} of this process from the Quarkus configuration. */
@ApplicationScoped
public class ControllerBean {

  private static final Logger LOG = Logger.getLogger(ControllerBean.class);

  @Inject FleetConfig config;

  // Instance injection points keep both datasource beans; only the configured one is touched.
  @Inject @Default Instance<AgroalDataSource> h2;

  @Inject
  @io.quarkus.agroal.DataSource("pg")
  Instance<AgroalDataSource> pg;

  private volatile FleetController controller;

  void onStart(@Observes StartupEvent event) throws Exception {
    controller();
  }

  void onStop(@Observes ShutdownEvent event) {
    if (controller != null) {
      controller.close();
    }
  }

  /** The controller, created and started on first use. */
  public synchronized FleetController controller() throws Exception {
    if (controller != null) {
      return controller;
    }
    AgroalDataSource ds =
        switch (config.database()) {
          case "h2" -> h2.get();
          case "postgresql" -> pg.get();
          default ->
              throw new IllegalArgumentException(
                  "fleet.database must be 'h2' or 'postgresql': got '"
                      + config.database()
                      + "'. See docs/fleet-controller.md, Configuration.");
        };
    FleetConfig.Mqtt mqtt = config.mqtt();
    FleetController c =
        new FleetController(
            ds,
            new ControllerSettings(
                mqtt.uri(),
                mqtt.clientId(),
                mqtt.username().orElse(null),
                mqtt.password().orElse(null),
                mqtt.shareGroup(),
                Path.of(config.bundles().dir()),
                config.bundles().chunkBytes(),
                config.bundles().bytesPerSecond(),
                trust(),
                config.rollouts().tick(),
                config.health().retention(),
                config.health().queue(),
                config.health().batch(),
                config.rollouts().outboxLease(),
                config.health().detailRetention(),
                config.health().maintenance(),
                config.health().writers()),
            Clock.systemUTC());
    if (config.auth().bootstrapAdminToken().isPresent()) {
      String secret = config.auth().bootstrapAdminToken().get();
      if (c.tokens().find(secret).isEmpty()) {
        try {
          c.tokens().create("bootstrap-admin", Role.ADMIN, secret, c.clock().instant());
        } catch (FleetConflictException e) {
          LOG.warn(
              "fleet.auth.bootstrap-admin-token differs from the stored 'bootstrap-admin' token;"
                  + " the stored one stays. Delete it with DELETE /api/v1/tokens/bootstrap-admin"
                  + " to replace it.");
        }
      }
    }
    c.start();
    controller = c;
    return c;
  }

  private TrustStore trust() throws SigningException {
    FleetConfig.Trust t = config.trust();
    if (t.root().isPresent()) {
      return TrustStore.load(Path.of(t.root().get()));
    }
    List<VerificationKey> keys = new ArrayList<>();
    for (String k : t.keys().orElse(List.of())) {
      keys.add(VerificationKey.read(Path.of(k)));
    }
    if (keys.isEmpty()) {
      throw new IllegalStateException(
          "No trust store configured: set fleet.trust.root to a signed trust root, or"
              + " fleet.trust.keys to release public keys (PEM). The controller verifies every"
              + " upload against it.");
    }
    return TrustStore.pinned(keys);
  }
}
