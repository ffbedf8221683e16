package io.edgeslm.fleet.internal.app;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Prometheus metrics at {@code /q/metrics}: nodes by status, rollouts by status, heartbeat ingest
 * rate and lag, chunk bytes served; and the MQTT readiness check. Database counts are refreshed at
 * most every 10 s so a scrape never turns into a query storm.
 *
 * <p>The meters are removed again at shutdown. Micrometer's global registry outlives one Quarkus
 * application in the same JVM (tests, dev-mode reloads); a meter left behind would keep reporting
 * the stopped controller's objects and the next registration under the same name would be ignored.
 */
@ApplicationScoped
public class FleetMetrics {

  @Inject ControllerBean bean;
  @Inject MeterRegistry registry;

  private final Map<String, Long> nodes = new ConcurrentHashMap<>();
  private volatile long refreshedAt;

  void onStart(@Observes StartupEvent e) throws Exception {
    FleetController c = bean.controller();
    for (String status : new String[] {"online", "offline", "unknown"}) {
      Gauge.builder("fleet_nodes", () -> count(status))
          .tag("status", status)
          .description("Registered nodes by presence")
          .register(registry);
    }
    FunctionCounter.builder("fleet_heartbeats_stored", c.health(), h -> h.stored())
        .description("Health messages stored")
        .register(registry);
    FunctionCounter.builder("fleet_heartbeats_dropped", c.health(), h -> h.dropped())
        .description("Health messages dropped because the write queue was full")
        .register(registry);
    Gauge.builder("fleet_heartbeat_lag_p99_ms", c.health(), h -> h.lag().quantile(0.99))
        .description("99th percentile of heartbeat lag (node time to commit) since start")
        .register(registry);
    Gauge.builder("fleet_heartbeat_queue", c.health(), h -> h.queued())
        .description("Health messages waiting to be written")
        .register(registry);
    FunctionCounter.builder("fleet_chunk_bytes_served", c.chunks(), s -> s.bytesServed())
        .description("Bundle bytes sent to nodes")
        .register(registry);
    FunctionCounter.builder("fleet_assignments_dispatched", c.runner(), r -> r.dispatched())
        .description("Update assignments published")
        .register(registry);
    Gauge.builder("fleet_outbox_pending", () -> outboxPending())
        .description("Node messages of stored rollout steps not yet published (should drain to 0)")
        .register(registry);
    FunctionCounter.builder("fleet_outbox_republished", c.runner(), r -> r.republished())
        .description("Outbox messages published after their first publisher stopped or failed")
        .register(registry);
    FunctionCounter.builder("fleet_mqtt_inbound_dropped", c.mqtt(), m -> m.stats().dropped())
        .description(
            "Received MQTT messages dropped because the handlers fell 256 MiB behind (should stay"
                + " 0)")
        .register(registry);
    FunctionCounter.builder("fleet_mqtt_connects", c.mqtt(), m -> m.stats().connects())
        .description("Successful connects to the broker (more than 1: reconnects)")
        .register(registry);
    Gauge.builder("fleet_ask_open", c.ask(), a -> a.open())
        .description("Questions to nodes waiting for their final reply")
        .register(registry);
    Gauge.builder("fleet_rollouts_active", () -> activeRollouts())
        .description("Rollouts running, paused or completed (still assigning late joiners)")
        .register(registry);
  }

  void onStop(@Observes ShutdownEvent e) {
    registry.getMeters().stream()
        .filter(m -> m.getId().getName().startsWith("fleet_"))
        .forEach(registry::remove);
  }

  private double count(String status) {
    refresh();
    return nodes.getOrDefault(status, 0L);
  }

  private double outboxPending() {
    try {
      return bean.controller().outbox().pending();
    } catch (Exception e) {
      return Double.NaN;
    }
  }

  private double activeRollouts() {
    try {
      return bean.controller().rollouts().activeIds().size();
    } catch (Exception e) {
      return Double.NaN;
    }
  }

  private void refresh() {
    long now = System.currentTimeMillis();
    if (now - refreshedAt < 10_000) {
      return;
    }
    refreshedAt = now;
    try {
      Map<String, Long> counts = bean.controller().nodes().countByStatus();
      nodes.clear();
      nodes.putAll(counts);
    } catch (Exception e) {
      // keep the last values
    }
  }

  /** Ready when the broker connection is up. */
  @Readiness
  @ApplicationScoped
  public static class MqttReadiness implements HealthCheck {
    @Inject ControllerBean bean;

    @Override
    public HealthCheckResponse call() {
      try {
        FleetController c = bean.controller();
        return HealthCheckResponse.named("mqtt")
            .status(c.mqtt().isConnected())
            .withData("lastError", c.mqtt().lastError())
            .build();
      } catch (Exception e) {
        return HealthCheckResponse.named("mqtt").down().withData("error", e.getMessage()).build();
      }
    }
  }
}
