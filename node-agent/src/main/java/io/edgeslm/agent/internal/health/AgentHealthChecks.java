package io.edgeslm.agent.internal.health;

import io.edgeslm.agent.internal.lifecycle.AgentRuntime;
import io.edgeslm.agent.internal.serving.ServingTasks;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;
import org.eclipse.microprofile.health.Startup;

/**
 * SmallRye Health checks on the management port ({@code /q/health/live}, {@code /ready}, {@code
 * /started}): liveness is the process and the inference supervisor; readiness is the broker
 * connection plus a serving model or the configured rules; startup is the model having loaded.
 */
@ApplicationScoped
public class AgentHealthChecks {

  @Inject AgentRuntime runtime;

  @Produces
  @Liveness
  HealthCheck inferenceSupervisor() {
    return () -> {
      HealthCheckResponseBuilder b = HealthCheckResponse.named("inference-supervisor");
      boolean alive = runtime.serving().map(ServingTasks::alive).orElse(true);
      return b.status(alive).withData("source", source()).build();
    };
  }

  @Produces
  @Readiness
  HealthCheck ready() {
    return () -> {
      HealthCheckResponseBuilder b = HealthCheckResponse.named("agent");
      var why = runtime.notReadyReason();
      b.status(why.isEmpty())
          .withData("broker", String.valueOf(runtime.brokerUrl()))
          .withData("brokerConnected", runtime.isBrokerConnected())
          .withData("source", source());
      runtime.brokerMqttVersion().ifPresent(v -> b.withData("brokerMqttVersion", v));
      runtime
          .fleetBrokerUrl()
          .ifPresent(
              f ->
                  b.withData("fleetBroker", f)
                      .withData("fleetConnected", runtime.isFleetConnected()));
      why.ifPresent(w -> b.withData("reason", w));
      runtime.journal().ifPresent(j -> b.withData("journalEntries", j.size()));
      // A stored model that failed its boot re-check: the node serves, but not what it was given.
      runtime
          .updates()
          .flatMap(io.edgeslm.agent.internal.update.UpdateService::servingProblem)
          .ifPresent(p -> b.withData("modelStore", p));
      return b.build();
    };
  }

  @Produces
  @Startup
  HealthCheck modelLoaded() {
    return () -> {
      HealthCheckResponseBuilder b = HealthCheckResponse.named("model-loaded");
      boolean up =
          runtime.isStarted()
              && runtime.serving().map(s -> s.notReadyReason().isEmpty()).orElse(false);
      runtime
          .serving()
          .flatMap(ServingTasks::notReadyReason)
          .ifPresent(r -> b.withData("reason", r));
      return b.status(up).withData("source", source()).build();
    };
  }

  private String source() {
    return runtime.serving().map(s -> s.source().name().toLowerCase()).orElse("none");
  }
}
