package io.edgeslm.inference.internal.worker;

import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.EngineHealth;
import io.edgeslm.inference.EngineInfo;
import io.edgeslm.inference.EngineStats;
import io.edgeslm.inference.EngineUnavailableException;
import io.edgeslm.inference.FinishReason;
import io.edgeslm.inference.Generation;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.GenerationTimings;
import io.edgeslm.inference.InferenceEngine;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.ModelLoadException;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.RequestRejectedException;
import io.edgeslm.inference.TokenListener;
import io.edgeslm.inference.internal.engine.GgufCheck;
import io.edgeslm.inference.internal.engine.RestartBackoff;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The default engine: llama.cpp in a supervised child JVM.
 *
 * <p>Supervision: the worker is pinged every {@code heartbeatInterval}; a worker that stays silent
 * for {@code heartbeatTimeout}, or a request without a token for {@code firstTokenTimeout} / {@code
 * tokenTimeout}, counts as hung and is killed with SIGKILL. When a worker dies for any reason,
 * every request it was running fails with {@link EngineUnavailableException} naming the cause,
 * requests still waiting stay queued, and a new worker starts after an exponential backoff. After
 * {@code maxConsecutiveRestarts} failures without a stable minute in between the engine reports
 * FAILED and refuses work.
 *
 * <p>At most {@code parallelSlots} requests are sent to the worker at once; the rest wait here in
 * FIFO order (the {@link io.edgeslm.inference.Scheduler} in front adds priorities and bounds).
 */
public final class WorkerEngine implements InferenceEngine {
  private static final Duration STABLE_AFTER = Duration.ofSeconds(60);
  private static final Duration STOP_GRACE = Duration.ofSeconds(2);
  private static final Duration COUNT_TIMEOUT = Duration.ofSeconds(30);

  private final EngineConfig.WorkerBackend config;
  private final ModelSpec spec;
  private final Clock clock;
  private final Object lock = new Object();
  private final AtomicLong ids = new AtomicLong();
  private final ScheduledExecutorService timer;
  private final ExecutorService delivery;
  private final ExecutorService lifecycle;

  // Guarded by lock.
  private Session session;
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private final Map<Long, Pending> sent = new HashMap<>();
  private final RestartBackoff backoff;
  private boolean closed;
  private long modelBytes = -1;

  private final Map<Long, CompletableFuture<Integer>> counts = new ConcurrentHashMap<>();
  private volatile EngineHealth health;
  private final AtomicLong restarts = new AtomicLong();
  private final AtomicLong started = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong tokens = new AtomicLong();

  /** One worker process and what the engine knows about it. */
  private static final class Session {
    final WorkerProcess process;
    final CompletableFuture<Wire.Loaded> loaded = new CompletableFuture<>();
    volatile String hangReason;
    volatile long readyNanos;
    final AtomicLong pings = new AtomicLong();

    Session(WorkerProcess process) {
      this.process = process;
    }
  }

  private WorkerEngine(EngineConfig.WorkerBackend config, ModelSpec spec, Clock clock) {
    this.config = config;
    this.spec = spec;
    this.clock = clock;
    this.health = new EngineHealth(EngineHealth.State.STARTING, "Starting worker", clock.instant());
    this.backoff =
        new RestartBackoff(
            config.restartBackoffMin(),
            config.restartBackoffMax(),
            config.maxConsecutiveRestarts(),
            STABLE_AFTER);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "edgeslm-engine-supervisor"));
    this.delivery = Executors.newSingleThreadExecutor(r -> daemon(r, "edgeslm-engine-delivery"));
    this.lifecycle = Executors.newSingleThreadExecutor(r -> daemon(r, "edgeslm-engine-restart"));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /**
   * Starts a worker, loads the model, and returns once it serves.
   *
   * @throws ModelLoadException if the file is not a loadable GGUF model
   * @throws EngineUnavailableException if the worker process fails to start
   * @throws io.edgeslm.inference.InferenceConfigException if Java or the work directory is wrong
   */
  public static WorkerEngine open(EngineConfig.WorkerBackend config, ModelSpec spec, Clock clock)
      throws InferenceException {
    GgufCheck.requireLoadable(spec.gguf());
    GgufCheck.requireWorkerArchitecture(spec.gguf());
    for (var lora : spec.loraAdapters()) {
      GgufCheck.requireLoadable(lora);
    }
    WorkerEngine engine = new WorkerEngine(config, spec, clock);
    try {
      engine.startWorker();
    } catch (InferenceException | RuntimeException e) {
      engine.shutdownExecutors();
      throw e;
    }
    long period = Math.min(config.heartbeatInterval().toMillis(), 250);
    engine.timer.scheduleWithFixedDelay(engine::supervise, period, period, TimeUnit.MILLISECONDS);
    return engine;
  }

  /** Starts one worker and loads the model; on success it becomes the serving session. */
  private void startWorker() throws InferenceException {
    long deadline = System.nanoTime() + config.startupTimeout().toNanos();
    WorkerProcess wp;
    try {
      wp = WorkerProcess.start(config, config.startupTimeout());
    } catch (IOException e) {
      throw new EngineUnavailableException(
          "The inference worker did not start: " + e.getMessage(), e);
    }
    Session s = new Session(wp);
    synchronized (lock) {
      if (closed) {
        wp.kill();
        throw new EngineUnavailableException("The engine was closed while a worker started.");
      }
      session = s;
    }
    WorkerProcess.startDaemon("edgeslm-engine-reader-" + wp.pid(), () -> readLoop(s));
    try {
      wp.send(new Frame(Frame.Type.LOAD, 0, Wire.encodeSpec(spec)));
      long left = Math.max(1, deadline - System.nanoTime());
      Wire.Loaded loaded = s.loaded.get(left, TimeUnit.NANOSECONDS);
      synchronized (lock) {
        modelBytes = loaded.modelBytes();
        s.readyNanos = System.nanoTime();
        setHealth(
            EngineHealth.State.READY,
            "Worker pid "
                + wp.pid()
                + " serves "
                + spec.gguf().getFileName()
                + " (loaded in "
                + loaded.loadMillis()
                + " ms)");
        pump();
      }
    } catch (ExecutionException e) {
      abandon(s);
      if (e.getCause() instanceof InferenceException ie) {
        throw ie;
      }
      throw new EngineUnavailableException(
          "The inference worker failed while loading: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      abandon(s);
      throw new EngineUnavailableException(
          "The inference worker did not load '"
              + spec.gguf()
              + "' within "
              + config.startupTimeout()
              + ". Raise startupTimeout for large models or slow disks. Worker output: "
              + wp.stderrTail());
    } catch (IOException e) {
      abandon(s);
      throw new EngineUnavailableException(
          "The inference worker went away while loading: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abandon(s);
      throw new EngineUnavailableException("Interrupted while loading the model");
    }
  }

  private void abandon(Session s) {
    synchronized (lock) {
      if (session == s) {
        session = null;
      }
    }
    s.process.kill();
  }

  private void readLoop(Session s) {
    WorkerProcess wp = s.process;
    String cause;
    try {
      while (true) {
        handle(s, wp.receive());
      }
    } catch (IOException e) {
      cause = e instanceof java.io.EOFException ? "closed its connection" : e.getMessage();
    } catch (RuntimeException e) {
      cause = "sent something unreadable (" + e + ")";
    }
    // Whatever ended the stream, this worker is finished: make sure the process is too.
    try {
      if (!wp.process().waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        cause = cause + "; killed it";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    wp.kill();
    workerLost(s, cause);
  }

  private void handle(Session s, Frame f) throws IOException {
    switch (f.type()) {
      case PONG -> {}
      case LOADED -> s.loaded.complete(Wire.decodeLoaded(f.payload()));
      case TOKEN -> onToken(f.id(), Wire.decodeText(f.payload()));
      case DONE -> onDone(f.id(), Wire.decodeDone(f.payload()));
      case COUNTED -> {
        CompletableFuture<Integer> c = counts.remove(f.id());
        if (c != null) {
          c.complete(Wire.decodeInt(f.payload()));
        }
      }
      case ERROR -> onError(s, f.id(), Wire.decodeError(f.payload()));
      default -> throw new IOException("Unexpected frame " + f.type() + " from the worker");
    }
  }

  private void onToken(long id, String piece) {
    Pending p;
    synchronized (lock) {
      p = sent.get(id);
      if (p == null || p.hostDone) {
        return;
      }
      long now = System.nanoTime();
      if (p.tokens == 0) {
        p.firstTokenNanos = now;
      }
      p.lastTokenNanos = now;
      p.tokens++;
      p.text.append(piece);
    }
    tokens.incrementAndGet();
    delivery.execute(() -> deliver(p, piece));
  }

  private static void deliver(Pending p, String piece) {
    try {
      p.listener.onToken(piece);
    } catch (RuntimeException e) {
      // A failing listener must not stop the stream for others; the request still completes.
      System.getLogger(WorkerEngine.class.getName())
          .log(System.Logger.Level.WARNING, "Token listener of request " + p.id + " threw", e);
    }
  }

  private void onDone(long id, Wire.Done done) {
    synchronized (lock) {
      Pending p = sent.remove(id);
      if (p == null) {
        return;
      }
      if (!p.hostDone) {
        p.hostDone = true;
        GenerationResult r =
            new GenerationResult(
                p.text.toString(),
                done.promptTokens(),
                done.generated(),
                done.reason(),
                p.timings());
        completeLater(p, r);
      }
      pump();
    }
  }

  private void onError(Session s, long id, Wire.Error error) {
    if (error.kind() == Wire.ErrorKind.LOAD) {
      s.loaded.completeExceptionally(
          new ModelLoadException(
              "llama.cpp could not load '"
                  + spec.gguf()
                  + "': "
                  + error.message()
                  + ". Check that the file is a complete GGUF model of an architecture llama.cpp"
                  + " b4916 supports (Llama 3.x, Qwen2/2.5, Phi-3/4, Gemma 1-3). Worker output: "
                  + s.process.stderrTail()));
      return;
    }
    CompletableFuture<Integer> c = counts.remove(id);
    if (c != null) {
      c.completeExceptionally(
          new RequestRejectedException("The engine could not count tokens: " + error.message()));
      return;
    }
    synchronized (lock) {
      Pending p = sent.remove(id);
      if (p == null) {
        return;
      }
      if (!p.hostDone) {
        p.hostDone = true;
        failed.incrementAndGet();
        failLater(
            p,
            new RequestRejectedException(
                "The engine refused request "
                    + id
                    + ": "
                    + error.message()
                    + ". Check its grammar or JSON schema and chat messages."));
      }
      pump();
    }
  }

  /** Sends waiting requests while slots are free. Caller holds the lock. */
  private void pump() {
    Session s = session;
    if (s == null || s.readyNanos == 0 || closed) {
      return;
    }
    while (!waiting.isEmpty() && sent.size() < spec.parallelSlots()) {
      Pending p = waiting.poll();
      p.sentNanos = System.nanoTime();
      sent.put(p.id, p);
      started.incrementAndGet();
      try {
        s.process.send(new Frame(Frame.Type.GENERATE, p.id, Wire.encodeRequest(p.request)));
      } catch (IOException e) {
        // The reader sees the broken connection and fails everything in 'sent'.
        return;
      }
    }
  }

  private void workerLost(Session s, String cause) {
    synchronized (lock) {
      if (session != s) {
        return;
      }
      session = null;
      String hang = s.hangReason;
      String message =
          "The inference worker (pid "
              + s.process.pid()
              + ") "
              + (hang != null ? "hung (" + hang + ") and was killed" : "died: " + cause)
              + ", "
              + s.process.exitDescription()
              + ". "
              + (closed
                  ? "The engine is closed."
                  : "It restarts automatically; retry the request. Worker output: "
                      + s.process.stderrTail());
      for (Pending p : sent.values()) {
        if (!p.hostDone) {
          p.hostDone = true;
          failed.incrementAndGet();
          failLater(p, new EngineUnavailableException(message));
        }
      }
      sent.clear();
      counts
          .values()
          .forEach(c -> c.completeExceptionally(new EngineUnavailableException(message)));
      counts.clear();
      s.loaded.completeExceptionally(new EngineUnavailableException(message));
      if (closed || s.readyNanos == 0) {
        // Not yet serving: the thread starting it reports the failure.
        return;
      }
      scheduleRestart(message, Duration.ofNanos(System.nanoTime() - s.readyNanos));
    }
  }

  /** Caller holds the lock. */
  private void scheduleRestart(String why, Duration served) {
    RestartBackoff.Decision d = backoff.onFailure(served);
    if (d.giveUp()) {
      setHealth(
          EngineHealth.State.FAILED,
          "Gave up after "
              + config.maxConsecutiveRestarts()
              + " failed worker restarts in a row. Last failure: "
              + why
              + " Check the model and the worker output, then reopen the engine.");
      EngineUnavailableException e = new EngineUnavailableException(health.detail());
      for (Pending p : waiting) {
        p.hostDone = true;
        failLater(p, e);
      }
      waiting.clear();
      return;
    }
    long delay = d.delay().toMillis();
    setHealth(
        EngineHealth.State.RESTARTING,
        "Restart "
            + d.attempt()
            + " of at most "
            + config.maxConsecutiveRestarts()
            + " in "
            + delay
            + " ms after: "
            + why);
    timer.schedule(() -> lifecycle.execute(this::restart), delay, TimeUnit.MILLISECONDS);
  }

  private void restart() {
    synchronized (lock) {
      if (closed) {
        return;
      }
    }
    try {
      startWorker();
      restarts.incrementAndGet();
    } catch (InferenceException | RuntimeException e) {
      restarts.incrementAndGet();
      synchronized (lock) {
        if (!closed) {
          scheduleRestart(e.getMessage(), Duration.ZERO);
        }
      }
    }
  }

  /** Heartbeat and hang watchdog, run by the timer. */
  private void supervise() {
    Session s;
    List<String> hung = new ArrayList<>();
    long now = System.nanoTime();
    synchronized (lock) {
      s = session;
      if (s == null || closed) {
        return;
      }
      for (Pending p : sent.values()) {
        if (p.tokens == 0 && now - p.sentNanos > config.firstTokenTimeout().toNanos()) {
          hung.add("request " + p.id + " had no first token after " + config.firstTokenTimeout());
        } else if (p.tokens > 0 && now - p.lastTokenNanos > config.tokenTimeout().toNanos()) {
          hung.add("request " + p.id + " had no new token for " + config.tokenTimeout());
        }
      }
    }
    long silentNanos = now - s.process.lastHeardNanos();
    if (silentNanos > config.heartbeatTimeout().toNanos()) {
      hung.add("no answer to heartbeats for " + Duration.ofNanos(silentNanos).toMillis() + " ms");
    }
    if (!hung.isEmpty()) {
      s.hangReason = String.join("; ", hung);
      s.process.kill();
      return;
    }
    long seq = s.pings.incrementAndGet();
    long intervalNanos = config.heartbeatInterval().toNanos();
    long period = Math.max(1, intervalNanos / Math.min(intervalNanos, 250_000_000L));
    if (seq % period == 0) {
      try {
        s.process.send(Frame.of(Frame.Type.PING, seq));
      } catch (IOException ignored) {
        // The reader notices.
      }
    }
  }

  @Override
  public EngineInfo info() {
    return new EngineInfo(
        "worker",
        spec.gguf().getFileName().toString(),
        spec.contextSize(),
        spec.parallelSlots(),
        modelBytes);
  }

  @Override
  public Generation generate(GenerationRequest request, TokenListener listener)
      throws InferenceException {
    Pending p = new Pending(ids.incrementAndGet(), request, listener);
    synchronized (lock) {
      if (closed || health.state() == EngineHealth.State.FAILED) {
        throw new EngineUnavailableException("The engine is not serving: " + health.detail());
      }
      waiting.add(p);
      pump();
    }
    return p;
  }

  @Override
  public int countPromptTokens(GenerationRequest request) throws InferenceException {
    long id = ids.incrementAndGet();
    CompletableFuture<Integer> f = new CompletableFuture<>();
    Session s;
    synchronized (lock) {
      s = session;
      if (closed || s == null || s.readyNanos == 0) {
        throw new EngineUnavailableException(
            "The engine cannot count tokens now: " + health.detail());
      }
      counts.put(id, f);
    }
    try {
      s.process.send(new Frame(Frame.Type.COUNT, id, Wire.encodeRequest(request)));
      return f.get(COUNT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof InferenceException ie) {
        throw ie;
      }
      throw new EngineUnavailableException("Counting tokens failed: " + e.getCause(), e);
    } catch (TimeoutException | IOException e) {
      throw new EngineUnavailableException(
          "The worker did not count tokens within " + COUNT_TIMEOUT + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineUnavailableException("Interrupted while counting tokens");
    } finally {
      counts.remove(id);
    }
  }

  @Override
  public EngineHealth health() {
    return health;
  }

  @Override
  public EngineStats stats() {
    Session s = session;
    int running;
    synchronized (lock) {
      running = sent.size();
    }
    return new EngineStats(
        s == null ? -1 : s.process.pid(),
        restarts.get(),
        started.get(),
        failed.get(),
        tokens.get(),
        running);
  }

  /** The worker's pid, or -1 while none runs. For tests and diagnostics. */
  public long workerPid() {
    Session s = session;
    return s == null ? -1 : s.process.pid();
  }

  @Override
  public void close() {
    Session s;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      s = session;
      EngineUnavailableException e =
          new EngineUnavailableException("The engine was closed; the request did not finish.");
      for (Pending p : waiting) {
        p.hostDone = true;
        failLater(p, e);
      }
      waiting.clear();
      for (Pending p : sent.values()) {
        if (!p.hostDone) {
          p.hostDone = true;
          failLater(p, e);
        }
      }
      sent.clear();
      setHealth(EngineHealth.State.CLOSED, "Closed");
    }
    timer.shutdownNow();
    lifecycle.shutdownNow();
    if (s != null) {
      s.process.stop(STOP_GRACE);
    }
    delivery.shutdown();
    try {
      delivery.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void shutdownExecutors() {
    synchronized (lock) {
      closed = true;
    }
    timer.shutdownNow();
    lifecycle.shutdownNow();
    delivery.shutdownNow();
  }

  private void setHealth(EngineHealth.State state, String detail) {
    health = new EngineHealth(state, detail, clock.instant());
  }

  private void completeLater(Pending p, GenerationResult r) {
    delivery.execute(() -> p.future.complete(r));
  }

  private void failLater(Pending p, InferenceException e) {
    try {
      delivery.execute(() -> p.future.completeExceptionally(e));
    } catch (java.util.concurrent.RejectedExecutionException closedAlready) {
      p.future.completeExceptionally(e);
    }
  }

  private void cancel(Pending p) {
    synchronized (lock) {
      if (p.hostDone) {
        return;
      }
      p.hostDone = true;
      if (!waiting.remove(p)) {
        Session s = session;
        if (s != null && sent.containsKey(p.id)) {
          try {
            s.process.send(Frame.of(Frame.Type.CANCEL, p.id));
          } catch (IOException ignored) {
            // The worker is going away; its slot goes with it.
          }
        }
      }
      completeLater(
          p,
          new GenerationResult(
              p.text.toString(), -1, p.tokens, FinishReason.CANCELLED, p.timings()));
    }
  }

  /** One request on its way through this engine. */
  private final class Pending implements Generation {
    final long id;
    final GenerationRequest request;
    final TokenListener listener;
    final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    // Guarded by lock.
    final StringBuilder text = new StringBuilder();
    int tokens;
    long sentNanos;
    long firstTokenNanos;
    long lastTokenNanos;
    boolean hostDone;

    Pending(long id, GenerationRequest request, TokenListener listener) {
      this.id = id;
      this.request = request;
      this.listener = listener == null ? TokenListener.NONE : listener;
    }

    GenerationTimings timings() {
      Duration ttft = tokens == 0 ? Duration.ZERO : Duration.ofNanos(firstTokenNanos - sentNanos);
      Duration gen =
          tokens < 2 ? Duration.ZERO : Duration.ofNanos(lastTokenNanos - firstTokenNanos);
      double tps = tokens < 2 || gen.isZero() ? 0 : (tokens - 1) / (gen.toNanos() / 1e9);
      return new GenerationTimings(Duration.ZERO, ttft, gen, tps);
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public void cancel() {
      WorkerEngine.this.cancel(this);
    }

    @Override
    public CompletableFuture<GenerationResult> result() {
      return future;
    }
  }
}
