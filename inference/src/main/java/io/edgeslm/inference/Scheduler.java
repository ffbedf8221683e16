package io.edgeslm.inference;

import io.edgeslm.inference.internal.scheduler.LatencyWindow;
import io.edgeslm.inference.internal.scheduler.MemoryPlanner;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The front door to an engine: two priorities, a bounded queue that answers "busy" instead of
 * growing, per-request deadlines that cancel generation, admission checks (n_predict bound, context
 * budget counted with the model's tokenizer), metrics, and model swaps.
 *
 * <p>Thread-safe. Interactive requests always go before batch requests; within a priority, first
 * come first served. At most the engine's parallel slots run at once.
 */
public final class Scheduler implements AutoCloseable {
  private static final Duration INITIAL_SERVICE_ESTIMATE = Duration.ofSeconds(5);
  private static final Duration MIN_RETRY = Duration.ofSeconds(1);
  private static final Duration MAX_RETRY = Duration.ofMinutes(5);

  private final SchedulerConfig config;
  private final ScheduledExecutorService timer;
  private final Object lock = new Object();
  private final AtomicLong ids = new AtomicLong();

  // Guarded by lock.
  private InferenceEngine engine;
  private EngineConfig engineConfig;
  private ModelSpec engineSpec;
  private boolean paused;
  private boolean closed;
  private final ArrayDeque<Task> interactive = new ArrayDeque<>();
  private final ArrayDeque<Task> batch = new ArrayDeque<>();
  private int running;
  private long serviceNanosEwma = INITIAL_SERVICE_ESTIMATE.toNanos();
  private final LatencyWindow window = new LatencyWindow(SchedulerMetrics.WINDOW);
  private long submitted;
  private long completed;
  private long cancelled;
  private long failed;
  private long rejectedBusy;
  private long rejectedBudget;
  private long deadlineExceeded;
  private long swaps;
  private long tokens;
  private long restartsOfRetiredEngines;

  private Scheduler(
      InferenceEngine engine, EngineConfig engineConfig, ModelSpec spec, SchedulerConfig config) {
    this.engine = engine;
    this.engineConfig = engineConfig;
    this.engineSpec = spec;
    this.config = config;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edgeslm-scheduler-deadlines");
              t.setDaemon(true);
              return t;
            });
  }

  /** A scheduler in front of an engine the caller opened; closing it closes the engine. */
  public static Scheduler start(InferenceEngine engine, SchedulerConfig config) {
    return new Scheduler(
        Objects.requireNonNull(engine, "engine"), null, null, Objects.requireNonNull(config));
  }

  /**
   * Opens an engine and puts a scheduler in front of it. Knowing how the engine was opened lets a
   * {@link SwapMode#STOP_FIRST} swap reload the previous model when the new one fails.
   */
  public static Scheduler open(EngineConfig engineConfig, ModelSpec spec, SchedulerConfig config)
      throws InferenceException {
    InferenceEngine e = InferenceEngines.open(engineConfig, spec);
    return new Scheduler(e, engineConfig, spec, Objects.requireNonNull(config));
  }

  /**
   * Queues a request.
   *
   * @param deadline time allowed from now until the result, queueing included; null for the
   *     configured default
   * @return a handle; its result completes with the generation, with {@link
   *     DeadlineExceededException} when the deadline passes first, or with the engine's failure
   * @throws BusyException if the queue is full (or a stop-first swap is in progress), with a retry
   *     hint
   * @throws RequestRejectedException if {@code nPredict} exceeds the configured bound or prompt
   *     plus {@code nPredict} exceed one slot's context
   * @throws EngineUnavailableException if the engine cannot count the prompt's tokens now
   */
  public Generation submit(
      GenerationRequest request, Priority priority, Duration deadline, TokenListener listener)
      throws InferenceException {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(priority, "priority");
    Duration d = deadline == null ? config.defaultDeadline() : deadline;
    if (d.isNegative() || d.isZero() || d.compareTo(config.maxDeadline()) > 0) {
      throw new RequestRejectedException(
          "deadline must be positive and at most "
              + config.maxDeadline()
              + ", was "
              + d
              + ". Ask for a shorter deadline.");
    }
    long deadlineNanos = System.nanoTime() + d.toNanos();
    if (request.nPredict() > config.maxNPredict()) {
      synchronized (lock) {
        rejectedBudget++;
      }
      throw new RequestRejectedException(
          "nPredict "
              + request.nPredict()
              + " exceeds this scheduler's bound of "
              + config.maxNPredict()
              + " tokens. Ask for fewer tokens.");
    }
    InferenceEngine e;
    synchronized (lock) {
      requireOpen();
      rejectIfFull();
      e = engine;
    }
    int budget = e.info().contextPerSlot();
    // Exact only near the budget: a bound that fits saves the tokenizer round trips on the way
    // to the first token (the count is not used for anything else once the prompt fits).
    int promptTokens = e.countPromptTokensWithin(request, budget - request.nPredict());
    if (promptTokens + request.nPredict() > budget) {
      synchronized (lock) {
        rejectedBudget++;
      }
      throw new RequestRejectedException(
          "Context budget exceeded: the prompt has "
              + promptTokens
              + " tokens and nPredict is "
              + request.nPredict()
              + ", together "
              + (promptTokens + request.nPredict())
              + " > "
              + budget
              + " tokens of context per slot. Shorten the prompt or lower nPredict.");
    }
    Task t =
        new Task(ids.incrementAndGet(), request, priority, deadlineNanos, promptTokens, listener);
    synchronized (lock) {
      requireOpen();
      rejectIfFull();
      (priority == Priority.INTERACTIVE ? interactive : batch).add(t);
      submitted++;
      t.deadlineTimer = timer.schedule(() -> onDeadline(t), d.toNanos(), TimeUnit.NANOSECONDS);
      dispatch();
    }
    return t;
  }

  private void requireOpen() throws EngineUnavailableException {
    if (closed) {
      throw new EngineUnavailableException("The scheduler is closed.");
    }
  }

  /** Caller holds the lock. */
  private void rejectIfFull() throws BusyException {
    int queued = interactive.size() + batch.size();
    if (paused) {
      rejectedBusy++;
      throw new BusyException(
          "A model swap is in progress; the model is being replaced. Retry after "
              + retryAfter().toSeconds()
              + " s.",
          retryAfter());
    }
    if (queued >= config.queueCapacity()) {
      rejectedBusy++;
      Duration retry = retryAfter();
      throw new BusyException(
          "The inference queue is full ("
              + queued
              + " of "
              + config.queueCapacity()
              + " waiting, "
              + running
              + " running). Retry after "
              + retry.toSeconds()
              + " s.",
          retry);
    }
  }

  /** Time until the queue has likely drained one slot's worth. Caller holds the lock. */
  private Duration retryAfter() {
    int slots = engine == null ? 1 : Math.max(1, engine.info().parallelSlots());
    long ahead = interactive.size() + batch.size() + running;
    long nanos = serviceNanosEwma * Math.max(1, ahead) / slots;
    Duration d = Duration.ofNanos(nanos);
    d = Duration.ofSeconds(d.toSeconds() + (d.toNanosPart() > 0 ? 1 : 0));
    if (d.compareTo(MIN_RETRY) < 0) {
      return MIN_RETRY;
    }
    return d.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : d;
  }

  /** Starts queued requests while slots are free. Caller holds the lock. */
  private void dispatch() {
    if (paused || closed || engine == null) {
      return;
    }
    int slots = engine.info().parallelSlots();
    while (running < slots) {
      Task t = interactive.poll();
      if (t == null) {
        t = batch.poll();
      }
      if (t == null) {
        return;
      }
      t.state = Task.State.RUNNING;
      t.dispatchedNanos = System.nanoTime();
      t.engine = engine;
      running++;
      Generation g;
      try {
        g = engine.generate(t.request, t::onToken);
      } catch (InferenceException ex) {
        running--;
        finish(t, null, ex);
        continue;
      }
      t.generation = g;
      Task task = t;
      g.result().whenComplete((r, ex) -> onEngineDone(task, r, ex));
    }
  }

  private void onEngineDone(Task t, GenerationResult r, Throwable ex) {
    synchronized (lock) {
      running--;
      long elapsed = System.nanoTime() - t.dispatchedNanos;
      serviceNanosEwma = (serviceNanosEwma * 7 + elapsed) / 8;
      if (r != null) {
        tokens += r.generatedTokens();
        if (r.generatedTokens() > 0) {
          window.add(r.timings().timeToFirstToken(), r.timings().tokensPerSecond());
        }
      }
      if (t.state != Task.State.DONE) {
        if (r != null) {
          finish(
              t,
              r.withTimings(
                  r.timings().withQueued(Duration.ofNanos(t.dispatchedNanos - t.submittedNanos))),
              null);
        } else {
          Throwable cause =
              ex instanceof java.util.concurrent.CompletionException && ex.getCause() != null
                  ? ex.getCause()
                  : ex;
          finish(
              t,
              null,
              cause instanceof InferenceException ie
                  ? ie
                  : new EngineUnavailableException("Generation failed: " + cause, cause));
        }
      }
      dispatch();
      lock.notifyAll();
    }
  }

  /** Completes a task once. Caller holds the lock. */
  private void finish(Task t, GenerationResult r, InferenceException ex) {
    if (t.state == Task.State.DONE) {
      return;
    }
    t.state = Task.State.DONE;
    if (t.deadlineTimer != null) {
      t.deadlineTimer.cancel(false);
    }
    if (r != null) {
      completed++;
      if (r.finishReason() == FinishReason.CANCELLED) {
        cancelled++;
      }
      t.future.complete(r);
    } else {
      if (ex instanceof DeadlineExceededException) {
        deadlineExceeded++;
      } else {
        failed++;
      }
      t.future.completeExceptionally(ex);
    }
  }

  private void onDeadline(Task t) {
    Generation toCancel = null;
    synchronized (lock) {
      switch (t.state) {
        case QUEUED -> {
          interactive.remove(t);
          batch.remove(t);
          finish(
              t,
              null,
              new DeadlineExceededException(
                  "Request "
                      + t.id
                      + " waited its whole deadline in the queue and was not started. The node"
                      + " is overloaded; retry later or with a longer deadline.",
                  0));
        }
        case RUNNING -> {
          toCancel = t.generation;
          finish(
              t,
              null,
              new DeadlineExceededException(
                  "Request "
                      + t.id
                      + " passed its deadline after "
                      + t.tokens
                      + " generated tokens; generation was cancelled. Ask for fewer tokens or a"
                      + " longer deadline.",
                  t.tokens));
        }
        case DONE -> {}
      }
    }
    if (toCancel != null) {
      toCancel.cancel();
    }
  }

  private void cancel(Task t) {
    Generation toCancel = null;
    synchronized (lock) {
      switch (t.state) {
        case QUEUED -> {
          interactive.remove(t);
          batch.remove(t);
          finish(
              t,
              new GenerationResult(
                  "",
                  t.promptTokens,
                  0,
                  FinishReason.CANCELLED,
                  new GenerationTimings(
                      Duration.ofNanos(System.nanoTime() - t.submittedNanos),
                      Duration.ZERO,
                      Duration.ZERO,
                      0)),
              null);
        }
        case RUNNING -> toCancel = t.generation;
        case DONE -> {}
      }
    }
    if (toCancel != null) {
      toCancel.cancel();
    }
  }

  /** A snapshot of the counters and recent latencies. */
  public SchedulerMetrics metrics() {
    synchronized (lock) {
      long restarts =
          restartsOfRetiredEngines + (engine == null ? 0 : engine.stats().workerRestarts());
      return new SchedulerMetrics(
          interactive.size(),
          batch.size(),
          running,
          submitted,
          completed,
          cancelled,
          failed,
          rejectedBusy,
          rejectedBudget,
          deadlineExceeded,
          restarts,
          swaps,
          window.ttftPercentile(0.50),
          window.ttftPercentile(0.95),
          window.meanTokensPerSecond(),
          tokens);
    }
  }

  /** The engine serving now (changes with swaps); null only during a stop-first swap. */
  public InferenceEngine engine() {
    synchronized (lock) {
      return engine;
    }
  }

  /**
   * Replaces the model. The new engine is opened, warmed up with a one-token generation, and
   * checked with {@code check} (if given) before it takes traffic; requests keep queueing
   * meanwhile. In {@link SwapMode#SIDE_BY_SIDE} the old engine serves until the switch and is
   * closed once its running requests finish; in {@link SwapMode#STOP_FIRST} it is closed first and
   * reloaded if the new model fails. {@link SwapMode#AUTO} picks side by side when the available
   * memory holds the new model next to the old one.
   *
   * @throws ActivationFailedException if the new model scored below the check's minimum; the old
   *     model keeps (or, after stop-first, again takes) the traffic
   * @throws ModelLoadException if the new model does not load; the old model keeps the traffic
   */
  public SwapReport swapModel(
      EngineConfig newConfig, ModelSpec newSpec, SwapMode mode, ActivationCheck check)
      throws InferenceException {
    Objects.requireNonNull(newConfig, "newConfig");
    Objects.requireNonNull(newSpec, "newSpec");
    Objects.requireNonNull(mode, "mode");
    long start = System.nanoTime();
    SwapMode used = mode;
    String reason = "requested";
    if (mode == SwapMode.AUTO) {
      MemoryPlanner.Decision d;
      synchronized (lock) {
        d =
            MemoryPlanner.decide(
                newConfig, newSpec, engine == null ? 0 : Math.max(0, engine.info().modelBytes()));
      }
      used = d.sideBySide() ? SwapMode.SIDE_BY_SIDE : SwapMode.STOP_FIRST;
      reason = d.reason();
    }
    return used == SwapMode.SIDE_BY_SIDE
        ? swapSideBySide(newConfig, newSpec, check, reason, start)
        : swapStopFirst(newConfig, newSpec, check, reason, start);
  }

  private SwapReport swapSideBySide(
      EngineConfig newConfig, ModelSpec newSpec, ActivationCheck check, String reason, long start)
      throws InferenceException {
    InferenceEngine fresh = InferenceEngines.open(newConfig, newSpec);
    Optional<ActivationReport> report;
    try {
      report = prepare(fresh, check);
    } catch (InferenceException | RuntimeException e) {
      fresh.close();
      throw e;
    }
    InferenceEngine old;
    synchronized (lock) {
      if (closed) {
        fresh.close();
        throw new EngineUnavailableException("The scheduler was closed during the swap.");
      }
      old = engine;
      engine = fresh;
      engineConfig = newConfig;
      engineSpec = newSpec;
      swaps++;
      dispatch();
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    retire(old);
    return new SwapReport(SwapMode.SIDE_BY_SIDE, reason, report, took);
  }

  private SwapReport swapStopFirst(
      EngineConfig newConfig, ModelSpec newSpec, ActivationCheck check, String reason, long start)
      throws InferenceException {
    InferenceEngine old;
    EngineConfig oldConfig;
    ModelSpec oldSpec;
    synchronized (lock) {
      paused = true;
      old = engine;
      oldConfig = engineConfig;
      oldSpec = engineSpec;
    }
    try {
      retire(old);
      synchronized (lock) {
        engine = null;
      }
      InferenceEngine fresh = null;
      Optional<ActivationReport> report;
      try {
        fresh = InferenceEngines.open(newConfig, newSpec);
        report = prepare(fresh, check);
      } catch (InferenceException | RuntimeException e) {
        if (fresh != null) {
          fresh.close();
        }
        if (oldConfig != null && oldSpec != null) {
          InferenceEngine back = InferenceEngines.open(oldConfig, oldSpec);
          synchronized (lock) {
            engine = back;
          }
        }
        throw e;
      }
      synchronized (lock) {
        engine = fresh;
        engineConfig = newConfig;
        engineSpec = newSpec;
        swaps++;
      }
      return new SwapReport(
          SwapMode.STOP_FIRST, reason, report, Duration.ofNanos(System.nanoTime() - start));
    } finally {
      synchronized (lock) {
        paused = false;
        if (engine == null) {
          EngineUnavailableException e =
              new EngineUnavailableException(
                  "The model swap failed and no model is loaded; load one before retrying.");
          for (Task t : interactive) {
            finish(t, null, e);
          }
          for (Task t : batch) {
            finish(t, null, e);
          }
          interactive.clear();
          batch.clear();
        }
        dispatch();
      }
    }
  }

  /** Warm-up and activation check on an engine that has no traffic yet. */
  private static Optional<ActivationReport> prepare(InferenceEngine fresh, ActivationCheck check)
      throws InferenceException {
    try {
      fresh.generate(GenerationRequest.ofPrompt("Hello", 1), TokenListener.NONE).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineUnavailableException("Interrupted while warming up the new model");
    }
    if (check == null) {
      return Optional.empty();
    }
    ActivationReport report = check.run(fresh);
    report.requirePassing();
    return Optional.of(report);
  }

  /** Waits (bounded by maxDeadline) for requests on {@code old} to finish, then closes it. */
  private void retire(InferenceEngine old) {
    if (old == null) {
      return;
    }
    long until = System.nanoTime() + config.maxDeadline().toNanos();
    synchronized (lock) {
      while (old.stats().running() > 0 && System.nanoTime() < until) {
        try {
          lock.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      restartsOfRetiredEngines += old.stats().workerRestarts();
    }
    old.close();
  }

  /** Fails queued requests, cancels running ones, and closes the engine. Idempotent. */
  @Override
  public void close() {
    InferenceEngine e;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      EngineUnavailableException ex =
          new EngineUnavailableException("The scheduler was closed before the request finished.");
      for (Task t : interactive) {
        finish(t, null, ex);
      }
      for (Task t : batch) {
        finish(t, null, ex);
      }
      interactive.clear();
      batch.clear();
      e = engine;
      engine = null;
    }
    timer.shutdownNow();
    if (e != null) {
      e.close();
    }
  }

  /** One request inside the scheduler. */
  private final class Task implements Generation {
    enum State {
      QUEUED,
      RUNNING,
      DONE
    }

    final long id;
    final GenerationRequest request;
    final Priority priority;
    final long deadlineNanos;
    final int promptTokens;
    final TokenListener listener;
    final long submittedNanos = System.nanoTime();
    final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    // Guarded by the scheduler lock.
    State state = State.QUEUED;
    long dispatchedNanos;
    InferenceEngine engine;
    Generation generation;
    ScheduledFuture<?> deadlineTimer;
    volatile int tokens;

    Task(
        long id,
        GenerationRequest request,
        Priority priority,
        long deadlineNanos,
        int promptTokens,
        TokenListener listener) {
      this.id = id;
      this.request = request;
      this.priority = priority;
      this.deadlineNanos = deadlineNanos;
      this.promptTokens = promptTokens;
      this.listener = listener == null ? TokenListener.NONE : listener;
    }

    void onToken(String piece) {
      tokens++;
      if (state != State.DONE) {
        listener.onToken(piece);
      }
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public void cancel() {
      Scheduler.this.cancel(this);
    }

    @Override
    public CompletableFuture<GenerationResult> result() {
      return future;
    }
  }
}
