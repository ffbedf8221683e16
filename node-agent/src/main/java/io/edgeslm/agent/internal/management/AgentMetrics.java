package io.edgeslm.agent.internal.management;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The agent's one meter registry: Prometheus text for {@code /q/metrics}, with the JVM and process
 * meters the Quarkus Micrometer extension bound before (its "jvm" and "system" binders, same names
 * and tags), so that a scraper sees the same series.
 */
@Singleton
public class AgentMetrics {

  private JvmGcMetrics gc;
  private JvmHeapPressureMetrics heapPressure;

  @Produces
  @Singleton
  PrometheusMeterRegistry registry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(registry);
    heapPressure = new JvmHeapPressureMetrics();
    heapPressure.bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    Counter.builder("jvm.info")
        .description("JVM version info")
        .tags(
            "version", System.getProperty("java.runtime.version", "unknown"),
            "vendor", System.getProperty("java.vm.vendor", "unknown"),
            "runtime", System.getProperty("java.runtime.name", "unknown"))
        .register(registry)
        .increment();
    gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    return registry;
  }

  void close(@Disposes PrometheusMeterRegistry registry) {
    if (gc != null) {
      gc.close();
    }
    if (heapPressure != null) {
      heapPressure.close();
    }
    registry.close();
  }
}
