package io.edgeslm.agent.internal.management;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
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
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The agent's one meter registry: Prometheus text for {@code /q/metrics}, with the JVM and process
 * meters the Quarkus Micrometer extension bound before (its "jvm" and "system" binders, same names
 * and tags), so that a scraper sees the same series.
 *
 * <p>The registry is made at the first scrape, not at start-up. Many nodes are never scraped (fleet
 * health goes over MQTT), and Micrometer, its JVM binders and the JMX beans behind them are about
 * 300 classes and 3 MiB of an idle agent (docs/benchmarks.md, "Idle RSS: the meter registry at the
 * first scrape"); a node that is scraped pays them from its first scrape on. The agent's own meters
 * read counts its objects keep anyway, so they say the same whenever they are registered; the JVM's
 * GC meters count the collections after the first scrape (Prometheus takes a counter's first sample
 * as its base, so its rates are the same).
 */
@Singleton
public class AgentMetrics {

  private static final Logger LOG = Logger.getLogger(AgentMetrics.class);

  /**
   * Guards the registry and the binders. A lock rather than {@code synchronized}: the first scrape
   * loads about 300 classes under it, and on Java 21 to 23 a virtual thread waiting on a monitor
   * holds its carrier, so a second scrape at that moment would stall the management port's
   * carriers, health probes included.
   */
  private final ReentrantLock lock = new ReentrantLock();

  private final List<Consumer<MeterRegistry>> binders = new ArrayList<>();
  private PrometheusMeterRegistry registry;
  private JvmGcMetrics gc;
  private JvmHeapPressureMetrics heapPressure;

  /** The registry, made with the JVM's meters and every {@link #bind} so far on the first call. */
  public PrometheusMeterRegistry registry() {
    lock.lock();
    try {
      if (registry == null) {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bindJvm(r);
        registry = r;
        for (Consumer<MeterRegistry> b : binders) {
          apply(b, r);
        }
      }
      return registry;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Registers meters with {@code binder}: now if the registry exists, else when it is made. Undone
   * by {@link #unbind}.
   */
  public void bind(Consumer<MeterRegistry> binder) {
    lock.lock();
    try {
      binders.add(binder);
      if (registry != null) {
        apply(binder, registry);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Forgets {@code binder} and, if the registry exists, hands it to {@code remove} to take the
   * binder's meters out again.
   */
  public void unbind(Consumer<MeterRegistry> binder, Consumer<MeterRegistry> remove) {
    lock.lock();
    try {
      binders.remove(binder);
      if (registry != null) {
        apply(remove, registry);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs one binder; one that fails is logged and the others still run, so a scrape lacks only that
   * binder's meters, and says why in the log.
   */
  private static void apply(Consumer<MeterRegistry> binder, MeterRegistry r) {
    try {
      binder.accept(r);
    } catch (RuntimeException e) {
      LOG.errorf(
          e,
          "Could not register a group of meters with /q/metrics (%s): the scrape goes on without"
              + " them; report this with the log",
          e.toString());
    }
  }

  private void bindJvm(PrometheusMeterRegistry r) {
    new ClassLoaderMetrics().bindTo(r);
    heapPressure = new JvmHeapPressureMetrics();
    heapPressure.bindTo(r);
    new JvmMemoryMetrics().bindTo(r);
    new JvmThreadMetrics().bindTo(r);
    Counter.builder("jvm.info")
        .description("JVM version info")
        .tags(
            "version", System.getProperty("java.runtime.version", "unknown"),
            "vendor", System.getProperty("java.vm.vendor", "unknown"),
            "runtime", System.getProperty("java.runtime.name", "unknown"))
        .register(r)
        .increment();
    gc = new JvmGcMetrics();
    gc.bindTo(r);
    new UptimeMetrics().bindTo(r);
    new ProcessorMetrics().bindTo(r);
    new FileDescriptorMetrics().bindTo(r);
  }

  @PreDestroy
  void close() {
    lock.lock();
    try {
      if (gc != null) {
        gc.close();
      }
      if (heapPressure != null) {
        heapPressure.close();
      }
      if (registry != null) {
        registry.close();
      }
    } finally {
      lock.unlock();
    }
  }
}
