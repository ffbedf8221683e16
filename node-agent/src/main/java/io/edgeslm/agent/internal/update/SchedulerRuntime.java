package io.edgeslm.agent.internal.update;

import io.edgeslm.inference.ActivationCheck;
import io.edgeslm.inference.ActivationFailedException;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.SchedulerConfig;
import io.edgeslm.inference.SchedulerMetrics;
import io.edgeslm.inference.SwapMode;
import java.nio.file.Path;
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
    ModelSpec spec = ModelSpec.of(gguf, threads, contextSize);
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
          "activation_check_failed",
          "The new model failed its activation check: " + e.getMessage(),
          e);
    } catch (InferenceException | RuntimeException e) {
      throw new UpdateException(
          UpdateException.Fault.MODEL,
          "model_load_failed",
          "The new model did not start: " + e.getMessage(),
          e);
    }
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
