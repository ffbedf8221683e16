package io.edgeslm.agent.internal.management;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {

  private final AgentMetrics metrics = new AgentMetrics();

  @AfterEach
  void close() {
    metrics.close();
  }

  private static void removeGauge(MeterRegistry registry) {
    registry.getMeters().stream()
        .filter(m -> m.getId().getName().equals("edgeslm.agent.test"))
        .forEach(registry::remove);
  }

  @Test
  void meters_boundBeforeTheFirstScrape_areRegisteredWhenTheRegistryIsMade() {
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger value = new AtomicInteger(7);
    metrics.bind(
        registry -> {
          calls.incrementAndGet();
          Gauge.builder("edgeslm.agent.test", value, AtomicInteger::get).register(registry);
        });
    assertThat(calls).hasValue(0);

    PrometheusMeterRegistry registry = metrics.registry();

    assertThat(calls).hasValue(1);
    assertThat(metrics.registry()).isSameAs(registry);
    assertThat(calls).hasValue(1);
    String text = registry.scrape();
    assertThat(text).contains("edgeslm_agent_test 7.0");
    // The JVM's and the process's meters, as the Quarkus extension bound them.
    assertThat(text)
        .contains("jvm_memory_used_bytes")
        .contains("jvm_gc_live_data_size_bytes")
        .contains("jvm_threads_live_threads")
        .contains("jvm_classes_loaded_classes")
        .contains("jvm_info_total")
        .contains("process_uptime_seconds")
        .contains("system_cpu_count");
  }

  @Test
  void meters_boundAfterTheFirstScrape_areRegisteredAtOnce() {
    PrometheusMeterRegistry registry = metrics.registry();
    AtomicInteger value = new AtomicInteger(3);

    metrics.bind(r -> Gauge.builder("edgeslm.agent.test", value, AtomicInteger::get).register(r));

    assertThat(registry.scrape()).contains("edgeslm_agent_test 3.0");
  }

  @Test
  void unbind_removesTheMetersOrForgetsTheBinder() {
    Consumer<MeterRegistry> binder = r -> Gauge.builder("edgeslm.agent.test", () -> 1).register(r);
    metrics.bind(binder);
    metrics.unbind(binder, AgentMetricsTest::removeGauge);
    assertThat(metrics.registry().scrape()).doesNotContain("edgeslm_agent_test");

    metrics.bind(binder);
    assertThat(metrics.registry().scrape()).contains("edgeslm_agent_test 1.0");
    metrics.unbind(binder, AgentMetricsTest::removeGauge);
    assertThat(metrics.registry().scrape()).doesNotContain("edgeslm_agent_test");
  }
}
