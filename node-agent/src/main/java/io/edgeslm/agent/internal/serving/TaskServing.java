package io.edgeslm.agent.internal.serving;

import io.edgeslm.agent.internal.qa.Answerer;
import io.edgeslm.agent.internal.report.ReportWriter;
import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.OperatorQaTask;
import io.edgeslm.inference.ReportRules;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.SchedulerConfig;
import io.edgeslm.inference.SchedulerMetrics;
import io.edgeslm.inference.SensorReportTask;
import io.edgeslm.inference.SensorWindow;
import io.edgeslm.inference.TaskLimits;
import io.edgeslm.inference.TaskOutcome;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Source;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Serves questions and reports with the inference module's tasks: the rules from the start, and a
 * model once it has loaded (in the background, so MQTT, health and rule answers are up while a
 * multi-gigabyte model loads). A model that cannot answer in time, or writes invalid output, is
 * replaced by the rules for that request: the tasks fall back, and this class counts it.
 */
final class TaskServing implements ServingTasks {

  private static final Logger LOG = Logger.getLogger(TaskServing.class);

  /** What to load, when a model is configured. */
  record ModelPlan(
      Path gguf,
      Optional<String> name,
      long version,
      int threads,
      int context,
      TaskLimits qaLimits,
      TaskLimits reportLimits) {
    ModelPlan {
      Objects.requireNonNull(gguf, "gguf");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(qaLimits, "qaLimits");
      Objects.requireNonNull(reportLimits, "reportLimits");
    }
  }

  private final Clock clock;
  private final Supplier<SensorSnapshot> snapshots;
  private final Runnable onModelChange;
  private final OperatorQaTask rulesQa;
  private final SensorReportTask rulesReport;
  private final Optional<ModelPlan> plan;
  private final AtomicLong fallbacks = new AtomicLong();
  private final Thread loader;
  private volatile Scheduler scheduler;
  private volatile ModelRef model;
  private volatile OperatorQaTask modelQa;
  private volatile SensorReportTask modelReport;
  private volatile String loadProblem;
  private volatile boolean closed;

  TaskServing(
      Clock clock,
      Supplier<SensorSnapshot> snapshots,
      Optional<ModelPlan> plan,
      Runnable onModelChange) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
    this.plan = Objects.requireNonNull(plan, "plan");
    this.onModelChange = Objects.requireNonNull(onModelChange, "onModelChange");
    this.rulesQa = OperatorQaTask.rulesOnly(clock);
    this.rulesReport = SensorReportTask.rulesOnly(ReportRules.defaults());
    if (plan.isPresent()) {
      loadProblem = "model loading";
      loader = new Thread(() -> load(plan.get()), "model-loader");
      loader.setDaemon(true);
      loader.start();
    } else {
      loader = null;
    }
  }

  private void load(ModelPlan p) {
    long start = System.nanoTime();
    try {
      ModelRef ref = ModelIdentity.of(p.gguf(), p.name(), p.version());
      LOG.infof(
          "Loading model %s v%d (%s) from %s", ref.name(), ref.version(), ref.digest(), p.gguf());
      Scheduler s =
          Scheduler.open(
              EngineConfig.WorkerBackend.defaults(),
              ModelSpec.of(p.gguf(), p.threads(), p.context()),
              SchedulerConfig.defaults());
      if (closed) {
        s.close();
        return;
      }
      scheduler = s;
      model = ref;
      modelQa = OperatorQaTask.withModel(s, ref, p.qaLimits(), clock);
      modelReport = SensorReportTask.withModel(s, ref, ReportRules.defaults(), p.reportLimits());
      loadProblem = null;
      LOG.infof(
          "Model %s v%d ready after %d ms",
          ref.name(), ref.version(), (System.nanoTime() - start) / 1_000_000);
      onModelChange.run();
    } catch (InferenceException | java.io.IOException | RuntimeException e) {
      loadProblem = "model failed to load: " + e.getMessage();
      LOG.errorf(
          "The model %s could not be loaded: %s. Answering with the rules until it is fixed"
              + " (check edgeslm.agent.model.path and the log above).",
          p.gguf(), e.getMessage());
    }
  }

  @Override
  public Answerer answerer() {
    return (question, deadline, partial) -> {
      OperatorQaTask task = modelQa != null ? modelQa : rulesQa;
      AtomicLong firstToken = new AtomicLong();
      TaskOutcome<Answer> out =
          task.answer(
              question.id(),
              question.question(),
              InferenceAdapter.states(snapshots.get()),
              null,
              piece -> {
                firstToken.compareAndSet(0, System.nanoTime());
                partial.accept(piece);
              });
      if (out.fellBack()) {
        fallbacks.incrementAndGet();
        LOG.infof("Rules answered for the model: %s", out.fallbackReason().orElse(""));
      }
      Answer a = out.value();
      return new Answerer.Outcome(
          a.answer(),
          a.sensors(),
          a.source(),
          Optional.ofNullable(a.model()),
          firstToken.get() == 0 ? Optional.empty() : Optional.of(firstToken.get()),
          a.timings().tokens());
    };
  }

  @Override
  public ReportWriter reportWriter() {
    return snapshot -> {
      List<SensorWindow> windows = InferenceAdapter.windows(snapshot);
      if (windows.isEmpty()) {
        return Optional.empty();
      }
      SensorReportTask task = modelReport != null ? modelReport : rulesReport;
      TaskOutcome<SensorReport> out = task.run(windows, snapshot.at());
      if (out.fellBack()) {
        fallbacks.incrementAndGet();
        LOG.infof("Rules wrote the report for the model: %s", out.fallbackReason().orElse(""));
      }
      return Optional.of(out.value());
    };
  }

  @Override
  public Source source() {
    return model != null ? Source.MODEL : Source.RULES;
  }

  @Override
  public Optional<ModelRef> model() {
    return Optional.ofNullable(model);
  }

  @Override
  public boolean ready() {
    return loadProblem == null;
  }

  @Override
  public Optional<String> notReadyReason() {
    return Optional.ofNullable(loadProblem);
  }

  /** Whether a configured model finished loading (true when none is configured). */
  boolean started() {
    return plan.isEmpty() || model != null;
  }

  @Override
  public boolean alive() {
    // The scheduler restarts a crashed worker itself; it is dead only after giving up.
    Scheduler s = scheduler;
    return s == null || s.engine() != null;
  }

  @Override
  public int queueDepth() {
    Scheduler s = scheduler;
    if (s == null) {
      return 0;
    }
    SchedulerMetrics m = s.metrics();
    return m.queueDepth();
  }

  @Override
  public Optional<Double> tokensPerSecond() {
    Scheduler s = scheduler;
    if (s == null) {
      return Optional.empty();
    }
    double tps = s.metrics().tokensPerSecond();
    return tps > 0 && Double.isFinite(tps) ? Optional.of(tps) : Optional.empty();
  }

  @Override
  public Optional<java.time.Duration> engineTimeToFirstTokenP50() {
    Scheduler s = scheduler;
    if (s == null) {
      return Optional.empty();
    }
    SchedulerMetrics m = s.metrics();
    return m.completed() == 0 ? Optional.empty() : Optional.of(m.ttftP50());
  }

  @Override
  public long errors() {
    return fallbacks.get();
  }

  @Override
  public void close() {
    closed = true;
    Scheduler s = scheduler;
    scheduler = null;
    modelQa = null;
    modelReport = null;
    if (s != null) {
      s.close();
    }
  }
}
