package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.Details;
import io.edgeslm.inference.ActivationCheck;
import io.edgeslm.inference.ActivationFailedException;
import io.edgeslm.inference.ActivationReport;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.SchedulerConfig;
import io.edgeslm.inference.SchedulerMetrics;
import io.edgeslm.inference.SwapMode;
import io.edgeslm.protocol.ReasonCode;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * {@link ModelRuntime} over the inference module's {@link Scheduler}: the first model opens the
 * scheduler, later ones go through {@link Scheduler#swapModel} (new worker, warm-up, activation
 * check, switch; the old model keeps serving if any step fails).
 */
public final class SchedulerRuntime implements ModelRuntime {

  private final EngineConfig engineConfig;
  private final SchedulerConfig schedulerConfig;
  private final int threads;
  private final int contextSize;
  private final SwapMode swapMode;
  private Scheduler scheduler;

  public SchedulerRuntime(
      EngineConfig engineConfig,
      SchedulerConfig schedulerConfig,
      int threads,
      int contextSize,
      SwapMode swapMode) {
    this.engineConfig = engineConfig;
    this.schedulerConfig = schedulerConfig;
    this.threads = threads;
    this.contextSize = contextSize;
    this.swapMode = swapMode;
  }

  /** The scheduler serving now, or null before the first activation. */
  public synchronized Scheduler scheduler() {
    return scheduler;
  }

  @Override
  public synchronized OptionalDouble activate(Path gguf, Optional<Path> evaluationFile)
      throws UpdateException {
    return activate(gguf, java.util.List.of(), evaluationFile);
  }

  /**
   * As {@link #activate(Path, Optional)} with LoRA adapter files applied on top of the base model:
   * a new engine starts with base + adapters (llama-server {@code --lora}; the engine sets each
   * adapter's scale explicitly once it serves), warms up, runs the check, then takes traffic.
   */
  public synchronized OptionalDouble activate(
      Path gguf, java.util.List<Path> adapters, Optional<Path> evaluationFile)
      throws UpdateException {
    ModelSpec spec = ModelSpec.of(gguf, threads, contextSize).withLoraAdapters(adapters);
    try {
      ActivationCheck check =
          evaluationFile.isPresent() ? ActivationCheck.read(evaluationFile.get()) : null;
      if (scheduler == null) {
        Scheduler fresh = Scheduler.open(engineConfig, spec, schedulerConfig);
        try {
          if (check != null) {
            var report = check.run(fresh.engine());
            report.requirePassing();
            scheduler = fresh;
            return OptionalDouble.of(report.score());
          }
        } catch (InferenceException | RuntimeException e) {
          fresh.close();
          throw e;
        }
        scheduler = fresh;
        return OptionalDouble.empty();
      }
      var report = scheduler.swapModel(engineConfig, spec, swapMode, check);
      return report
          .activation()
          .map(a -> OptionalDouble.of(a.score()))
          .orElse(OptionalDouble.empty());
    } catch (ActivationFailedException e) {
      throw new UpdateException(
          UpdateException.Fault.MODEL,
          ReasonCode.ACTIVATION_CHECK_FAILED,
          activationFailure(e.report()),
          e);
    } catch (InferenceException | RuntimeException e) {
      throw new UpdateException(
          UpdateException.Fault.MODEL,
          ReasonCode.MODEL_LOAD_FAILED,
          "The new model did not start: " + Details.printable(e.getMessage(), 600),
          e);
    }
  }

  /**
   * What the journal, the result and the USB result file say about a failed activation check: the
   * score and which cases failed which expectation. The model's output itself is left out: it is
   * untrusted text (a model that fails its check may emit anything, control characters included),
   * and the case ids and expectations already say what went wrong.
   */
  static String activationFailure(ActivationReport r) {
    StringBuilder failed = new StringBuilder();
    for (int i = 0; i < Math.min(3, r.failures().size()); i++) {
      ActivationReport.Failure f = r.failures().get(i);
      failed.append(i == 0 ? "" : "; ").append(f.caseId()).append(" (").append(f.expectation());
      failed.append(')');
    }
    if (r.failures().size() > 3) {
      failed.append("; and ").append(r.failures().size() - 3).append(" more");
    }
    return Details.printable(
        String.format(
            Locale.ROOT,
            "The new model failed its activation check: it scored %.2f (%d of %d cases), below the"
                + " required %.2f; it does not take traffic. Failed cases: %s. Check the model and"
                + " its evaluation file.",
            r.score(),
            r.passed(),
            r.total(),
            r.minScore(),
            failed.length() == 0 ? "none listed" : failed),
        1000);
  }

  @Override
  public synchronized void unload() {
    if (scheduler != null) {
      scheduler.close();
      scheduler = null;
    }
  }

  @Override
  public synchronized Sample sample() {
    if (scheduler == null) {
      return new Sample(false, 0, 0, 0, 0);
    }
    SchedulerMetrics m = scheduler.metrics();
    var engine = scheduler.engine();
    boolean ready = engine != null && engine.health().isReady();
    return new Sample(
        ready, m.workerRestarts(), m.completed() + m.failed(), m.failed(), m.tokensPerSecond());
  }

  @Override
  public synchronized void close() {
    unload();
  }
}
