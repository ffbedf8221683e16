package io.edgeslm.agent.internal.serving;

import io.edgeslm.agent.internal.escalation.EscalationDecision;
import io.edgeslm.agent.internal.qa.Answerer;
import io.edgeslm.agent.internal.report.ReportWriter;
import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.agent.internal.tasks.OperatorQaTask;
import io.edgeslm.agent.internal.tasks.ReportRules;
import io.edgeslm.agent.internal.tasks.SensorReportTask;
import io.edgeslm.agent.internal.tasks.SensorWindow;
import io.edgeslm.agent.internal.tasks.TaskLimits;
import io.edgeslm.agent.internal.tasks.TaskOutcome;
import io.edgeslm.agent.internal.update.ModelRuntime;
import io.edgeslm.agent.internal.update.SchedulerRuntime;
import io.edgeslm.agent.internal.update.UpdateException;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.SchedulerConfig;
import io.edgeslm.inference.SchedulerMetrics;
import io.edgeslm.inference.SwapMode;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Source;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Serves questions and reports with the inference module's tasks: the rules from the start, and a
 * model once it has loaded (in the background, so MQTT, health and rule answers are up while a
 * multi-gigabyte model loads). A model that cannot answer in time, or writes invalid output, is
 * replaced by the rules for that request: the tasks fall back, and this class counts it.
 *
 * <p>It is also the update engine's {@link ModelRuntime}: there is one inference {@link Scheduler}
 * per agent (inside a {@link SchedulerRuntime}), and an activation swaps the model behind it (new
 * worker, warm-up, activation check, switch) and then relabels the Q&A and report tasks with the
 * new model's identity, so the next answer names the model that wrote it.
 */
final class TaskServing implements ServingTasks, ModelRuntime {

  private static final Logger LOG = Logger.getLogger(TaskServing.class);

  /** How models are run, whichever model it is. */
  record Settings(
      int threads,
      int context,
      TaskLimits qaLimits,
      TaskLimits reportLimits,
      SwapMode swapMode,
      EngineConfig engineConfig) {
    Settings {
      Objects.requireNonNull(qaLimits, "qaLimits");
      Objects.requireNonNull(reportLimits, "reportLimits");
      Objects.requireNonNull(swapMode, "swapMode");
      Objects.requireNonNull(engineConfig, "engineConfig");
    }
  }

  /**
   * A plain GGUF file the operator configured, loaded at start; or, for an external server, the
   * identity it is reported under ({@code gguf} then names no file the agent reads).
   */
  record ModelPlan(Path gguf, Optional<String> name, long version, Optional<ModelRef> identity) {
    ModelPlan {
      Objects.requireNonNull(gguf, "gguf");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(identity, "identity");
    }

    ModelPlan(Path gguf, Optional<String> name, long version) {
      this(gguf, name, version, Optional.empty());
    }

    ModelRef ref() throws java.io.IOException {
      return identity.isPresent() ? identity.get() : ModelIdentity.of(gguf, name, version);
    }
  }

  private final Clock clock;
  private final Supplier<SensorSnapshot> snapshots;
  private final Runnable onModelChange;
  private final Settings settings;
  private final OperatorQaTask rulesQa;
  private final SensorReportTask rulesReport;
  private final SchedulerRuntime runtime;
  private final Optional<ModelPlan> configured;
  private final Object swapLock = new Object();
  private final AtomicLong fallbacks = new AtomicLong();
  private final Thread loader;
  private volatile Scheduler scheduler;
  private volatile ModelRef model;
  private volatile ModelRef adapter;

  /** The model's Q&A task and the adapter applied behind it (null: none), read as one. */
  private record QaBinding(OperatorQaTask task, ModelRef adapter) {}

  private volatile QaBinding qaBinding;
  private volatile OperatorQaTask modelQa;
  private volatile SensorReportTask modelReport;
  private volatile String loadProblem;
  private volatile Double activationScore;
  private volatile boolean closed;

  /**
   * @param plan a plain GGUF to load in the background now, if any
   * @param awaitedModel why the agent is not ready yet when a model will be activated by the update
   *     engine (the store's active model), or empty
   * @param fallback the operator's plain GGUF, served when no verified model is left (defaults to
   *     {@code plan})
   */
  TaskServing(
      Clock clock,
      Supplier<SensorSnapshot> snapshots,
      Settings settings,
      Optional<ModelPlan> plan,
      Optional<String> awaitedModel,
      Optional<ModelPlan> fallback,
      Runnable onModelChange) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
    this.settings = Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(plan, "plan");
    this.configured = Objects.requireNonNull(fallback, "fallback").or(() -> plan);
    this.onModelChange = Objects.requireNonNull(onModelChange, "onModelChange");
    this.rulesQa = OperatorQaTask.rulesOnly(clock);
    this.rulesReport = SensorReportTask.rulesOnly(ReportRules.defaults());
    this.runtime =
        new SchedulerRuntime(
            settings.engineConfig(),
            SchedulerConfig.defaults(),
            settings.threads(),
            settings.context(),
            settings.swapMode());
    loadProblem = awaitedModel.orElse(null);
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
      ModelRef ref = p.ref();
      LOG.infof(
          "Loading model %s v%d (%s) from %s", ref.name(), ref.version(), ref.digest(), p.gguf());
      synchronized (swapLock) {
        if (scheduler != null || closed) {
          return; // the update engine activated a model first; it wins
        }
        activate(ref, p.gguf(), Optional.empty());
      }
      LOG.infof(
          "Model %s v%d ready after %d ms",
          ref.name(), ref.version(), (System.nanoTime() - start) / 1_000_000);
    } catch (UpdateException | java.io.IOException | RuntimeException e) {
      loadProblem = "model failed to load: " + e.getMessage();
      LOG.errorf(
          "The model %s could not be loaded: %s. Answering with the rules until it is fixed"
              + " (check edgeslm.agent.model.path and the log above).",
          p.gguf(), e.getMessage());
    }
  }

  // ---- ModelRuntime: the update engine's side ----

  @Override
  public OptionalDouble activate(Path gguf, Optional<Path> evaluationFile) throws UpdateException {
    ModelRef ref;
    try {
      ref = ModelIdentity.of(gguf, Optional.empty(), 1);
    } catch (java.io.IOException e) {
      throw new UpdateException(
          UpdateException.Fault.MODEL,
          ReasonCode.MODEL_LOAD_FAILED,
          "Cannot read the model file " + gguf + ": " + e.getMessage(),
          e);
    }
    return activate(ref, gguf, evaluationFile);
  }

  @Override
  public OptionalDouble activate(ModelRef ref, Path gguf, Optional<Path> evaluationFile)
      throws UpdateException {
    return swap(ref, gguf, evaluationFile, OptionalDouble.empty());
  }

  /**
   * A model that passed its check when it was committed (the store's active model at boot, the
   * previous one on a rollback) starts without the check, and health reports the score it had.
   */
  @Override
  public void serve(ModelRef ref, Path gguf, OptionalDouble recordedScore) throws UpdateException {
    swap(ref, gguf, Optional.empty(), Optional.empty(), recordedScore);
  }

  /** Base + adapter: the engine restarts with both; answers and health name both from then on. */
  @Override
  public OptionalDouble activate(
      ModelRef ref, Path gguf, Optional<Adapter> adapter, Optional<Path> evaluationFile)
      throws UpdateException {
    return swap(ref, gguf, adapter, evaluationFile, OptionalDouble.empty());
  }

  @Override
  public void serve(
      ModelRef ref, Path gguf, Optional<Adapter> adapter, OptionalDouble recordedScore)
      throws UpdateException {
    swap(ref, gguf, adapter, Optional.empty(), recordedScore);
  }

  private OptionalDouble swap(
      ModelRef ref, Path gguf, Optional<Path> evaluationFile, OptionalDouble recordedScore)
      throws UpdateException {
    return swap(ref, gguf, Optional.empty(), evaluationFile, recordedScore);
  }

  private OptionalDouble swap(
      ModelRef ref,
      Path gguf,
      Optional<Adapter> adapter,
      Optional<Path> evaluationFile,
      OptionalDouble recordedScore)
      throws UpdateException {
    OptionalDouble score;
    synchronized (swapLock) {
      if (closed) {
        throw new UpdateException(
            UpdateException.Fault.LOCAL, ReasonCode.SHUTTING_DOWN, "The agent is shutting down.");
      }
      if (scheduler == null && loadProblem == null) {
        loadProblem = "model loading";
      }
      try {
        score =
            runtime.activate(
                gguf, adapter.map(a -> List.of(a.file())).orElse(List.of()), evaluationFile);
      } catch (UpdateException e) {
        if (scheduler == null) {
          loadProblem = "model failed to load: " + e.getMessage();
        }
        throw e;
      }
      Scheduler s = runtime.scheduler();
      scheduler = s;
      modelQa = OperatorQaTask.withModel(s, ref, settings.qaLimits(), clock);
      ModelRef adapterRef = adapter.map(Adapter::ref).orElse(null);
      qaBinding = new QaBinding(modelQa, adapterRef);
      modelReport =
          SensorReportTask.withModel(s, ref, ReportRules.defaults(), settings.reportLimits());
      // The check run now, else the score the store recorded when the model was committed; a
      // model never checked has none. Written before the model, so whoever sees the new model
      // also sees its score.
      OptionalDouble reported = score.isPresent() ? score : recordedScore;
      activationScore =
          reported.isPresent() ? Math.max(0.0, Math.min(1.0, reported.getAsDouble())) : null;
      this.adapter = adapterRef;
      model = ref;
      loadProblem = null;
      LOG.infof(
          "Serving model %s v%d (%s)%s",
          ref.name(),
          ref.version(),
          ref.digest(),
          adapterRef == null
              ? ""
              : " with LoRA adapter " + adapterRef.name() + " v" + adapterRef.version());
    }
    onModelChange.run();
    return score;
  }

  /**
   * No verified model is left (a rollback with no previous model in the store). When the operator
   * configured a plain GGUF file, it serves again, as it did before the first update; otherwise the
   * rules answer.
   */
  @Override
  public void unload() {
    if (configured.isPresent() && !closed) {
      ModelPlan p = configured.get();
      try {
        activate(p.ref(), p.gguf(), Optional.empty());
        LOG.warnf("No verified model is left in the store: serving the configured %s", p.gguf());
        return;
      } catch (UpdateException | java.io.IOException | RuntimeException e) {
        LOG.errorf("The configured model %s does not start either: %s", p.gguf(), e.getMessage());
      }
    }
    synchronized (swapLock) {
      modelQa = null;
      qaBinding = null;
      modelReport = null;
      adapter = null;
      model = null;
      activationScore = null;
      scheduler = null;
      runtime.unload();
      loadProblem = null; // the rules serve; readiness follows rules-fallback mode
      LOG.warn("No verified model is left to serve: answering with the rules");
    }
    onModelChange.run();
  }

  @Override
  public Sample sample() {
    return runtime.sample();
  }

  @Override
  public ModelRuntime modelRuntime() {
    return this;
  }

  @Override
  public Answerer answerer() {
    return (question, deadline, partial) -> {
      // One read: the adapter named is the one applied behind the task that answers.
      QaBinding bound = qaBinding;
      OperatorQaTask task = bound != null ? bound.task() : rulesQa;
      ModelRef taskAdapter = bound != null ? bound.adapter() : null;
      AtomicLong firstToken = new AtomicLong();
      OperatorQaTask.QaResult result =
          task.answerDetailed(
              question.id(),
              question.question(),
              InferenceAdapter.withContext(
                  InferenceAdapter.states(snapshots.get()),
                  question.contextValues(),
                  clock.instant()),
              null,
              piece -> {
                firstToken.compareAndSet(0, System.nanoTime());
                partial.accept(piece);
              });
      TaskOutcome<Answer> out = result.outcome();
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
          a.timings().tokens(),
          new EscalationDecision.AnswerStats(
              result.task(), result.meanTokenProbability(), result.valid()),
          Answerer.LOCAL,
          Optional.empty(),
          a.source() == Source.MODEL ? Optional.ofNullable(taskAdapter) : Optional.empty());
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
  public Optional<ModelRef> adapter() {
    return model == null ? Optional.empty() : Optional.ofNullable(adapter);
  }

  @Override
  public boolean ready() {
    return loadProblem == null;
  }

  @Override
  public Optional<String> notReadyReason() {
    return Optional.ofNullable(loadProblem);
  }

  @Override
  public boolean alive() {
    // The engine restarts a crashed or hung process itself (RESTARTING is alive); it is dead only
    // after giving up (FAILED), or when a swap left the scheduler without one.
    Scheduler s = scheduler;
    if (s == null) {
      return true;
    }
    var e = s.engine();
    return e != null && e.health().state() != io.edgeslm.inference.EngineHealth.State.FAILED;
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
  public Optional<Double> activationScore() {
    return source() == Source.MODEL ? Optional.ofNullable(activationScore) : Optional.empty();
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
  public java.util.Map<String, Double> engineMetrics() {
    Scheduler s = scheduler;
    var e = s == null ? null : s.engine();
    return e == null ? java.util.Map.of() : e.nativeMetrics();
  }

  @Override
  public long errors() {
    return fallbacks.get();
  }

  @Override
  public long engineRestarts() {
    Scheduler s = scheduler;
    return s == null ? 0 : s.metrics().workerRestarts();
  }

  @Override
  public void close() {
    closed = true;
    modelQa = null;
    modelReport = null;
    scheduler = null;
    // Closing waits for a swap in progress to finish (it holds the runtime's lock).
    runtime.close();
  }
}
