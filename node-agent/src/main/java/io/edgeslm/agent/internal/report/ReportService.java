package io.edgeslm.agent.internal.report;

import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.agent.internal.sensor.SensorStore;
import io.edgeslm.protocol.SensorReport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Runs the report task on its schedule and at once when a sensor leaves its normal range, at most
 * once per debounce period for anomalies (a flapping sensor would otherwise flood the fleet): an
 * anomaly inside the period schedules one report at its end. Reports run one at a time on the given
 * single-threaded executor.
 */
public final class ReportService {

  private static final Logger LOG = Logger.getLogger(ReportService.class);

  private final ReportWriter writer;
  private final SensorStore store;
  private final Consumer<SensorReport> sink;
  private final Clock clock;
  private final Duration debounce;
  private final ScheduledExecutorService executor;
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private Instant lastAnomalyReport = Instant.MIN;
  private boolean anomalyPending;

  /**
   * @param writer writes a report
   * @param store sensor windows
   * @param sink receives each report (journal and publish)
   * @param clock wall clock
   * @param debounce minimum time between anomaly-triggered reports
   * @param executor single-threaded; runs every report
   */
  public ReportService(
      ReportWriter writer,
      SensorStore store,
      Consumer<SensorReport> sink,
      Clock clock,
      Duration debounce,
      ScheduledExecutorService executor) {
    this.writer = Objects.requireNonNull(writer, "writer");
    this.store = Objects.requireNonNull(store, "store");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.debounce = Objects.requireNonNull(debounce, "debounce");
    this.executor = Objects.requireNonNull(executor, "executor");
  }

  /** A scheduled report. */
  public void onSchedule() {
    executor.execute(() -> run("schedule"));
  }

  /** A sensor left its normal range. */
  public synchronized void onNewAnomaly() {
    if (anomalyPending) {
      return;
    }
    Instant now = clock.instant();
    Instant earliest =
        lastAnomalyReport.equals(Instant.MIN) ? now : lastAnomalyReport.plus(debounce);
    long delay = Math.max(0, Duration.between(now, earliest).toMillis());
    anomalyPending = true;
    executor.schedule(this::runAnomaly, delay, TimeUnit.MILLISECONDS);
  }

  private void runAnomaly() {
    synchronized (this) {
      anomalyPending = false;
      lastAnomalyReport = clock.instant();
    }
    run("anomaly");
  }

  private void run(String trigger) {
    try {
      java.util.Optional<SensorReport> result =
          writer.write(SensorSnapshot.of(store, clock.instant()));
      if (result.isEmpty()) {
        LOG.debugf("No %s report: no sensor has a reading yet", trigger);
        return;
      }
      SensorReport report = result.get();
      sink.accept(report);
      written.incrementAndGet();
      LOG.debugf("Report (%s): %s", trigger, report.summary());
    } catch (RuntimeException e) {
      failed.incrementAndGet();
      LOG.errorf(e, "The %s report could not be written", trigger);
    }
  }

  public long written() {
    return written.get();
  }

  public long failed() {
    return failed.get();
  }
}
