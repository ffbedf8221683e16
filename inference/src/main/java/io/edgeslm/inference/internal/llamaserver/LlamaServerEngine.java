package io.edgeslm.inference.internal.llamaserver;

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
import io.edgeslm.inference.TokenListener;
import io.edgeslm.inference.internal.engine.ChildProcesses;
import io.edgeslm.inference.internal.engine.GgufCheck;
import io.edgeslm.inference.internal.engine.OutputTail;
import io.edgeslm.inference.internal.engine.RestartBackoff;
import io.edgeslm.inference.internal.http.HttpEngine;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A current llama.cpp as a supervised {@code llama-server} child on loopback, spoken to through
 * {@link HttpEngine} (docs/adr/0022-llama-server-engine.md).
 *
 * <p>Ready only after the server listens (it loads the model first), {@code GET /health} answers
 * 200 and a one-token warm-up generation finished. Supervision: {@code /health} is probed every
 * {@code healthInterval}; a server silent for {@code healthTimeout}, or a stream without its first
 * token after {@code firstTokenTimeout} or without a new one for {@code tokenTimeout}, is hung and
 * gets SIGKILL. Whenever the server dies, its running requests fail with {@link
 * EngineUnavailableException} naming the cause and its last output, requests that arrive meanwhile
 * wait, and a new server starts after an exponential backoff; after {@code maxConsecutiveRestarts}
 * failures without a stable minute in between the engine reports FAILED and refuses work.
 *
 * <p>The engine's private directory (mode 700) holds the API key file and the server's log ({@code
 * llama-server.log}, rotated at 1 MiB); it is removed on close, and directories of engines whose
 * JVM died are removed by the next engine.
 */
public final class LlamaServerEngine implements InferenceEngine {
  private static final Duration STABLE_AFTER = Duration.ofSeconds(60);
  private static final Duration STOP_GRACE = Duration.ofSeconds(3);
  private static final Duration DEATH_NOTICE = Duration.ofSeconds(2);
  private static final Duration METRICS_MAX_AGE = Duration.ofSeconds(5);
  private static final String DIRECTORY_PREFIX = "edgeslm-llama-server-";
  private static final int TAIL_CHARS = 8 * 1024;
  private static final long LOG_BYTES = 1 << 20;
  private static final System.Logger LOG = System.getLogger(LlamaServerEngine.class.getName());

  private final EngineConfig.LlamaServerBackend config;
  private final ModelSpec spec;
  private final Clock clock;
  private final Path directory;
  private final String apiKey;
  private final OutputTail output;
  private final HttpClient probes;
  private final ScheduledExecutorService timer;
  private final ExecutorService lifecycle;
  private final Object lock = new Object();
  private final AtomicLong ids = new AtomicLong();
  private final RestartBackoff backoff;
  private final long modelBytes;

  // Guarded by lock.
  private Session session;
  private final ArrayDeque<Request> waiting = new ArrayDeque<>();
  private boolean closed;

  private volatile EngineHealth health;
  private final AtomicLong restarts = new AtomicLong();
  private final AtomicLong started = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong tokens = new AtomicLong();
  private final AtomicLong running = new AtomicLong();
  private volatile Map<String, Double> metrics = Map.of();
  private volatile long metricsNanos;

  /** One server process and the HTTP engine talking to it. */
  private static final class Session {
    final LlamaServerProcess process;
    volatile HttpEngine http;
    volatile long readyNanos;
    volatile long lastHealthyNanos = System.nanoTime();
    volatile String hangReason;
    volatile String deathMessage;

    Session(LlamaServerProcess process) {
      this.process = process;
    }
  }

  private LlamaServerEngine(
      EngineConfig.LlamaServerBackend config, ModelSpec spec, Clock clock, Path directory)
      throws IOException {
    this.config = config;
    this.spec = spec;
    this.clock = clock;
    this.directory = directory;
    byte[] key = new byte[24];
    new SecureRandom().nextBytes(key);
    this.apiKey = HexFormat.of().formatHex(key);
    this.output =
        new OutputTail(TAIL_CHARS, Optional.of(directory.resolve("llama-server.log")), LOG_BYTES);
    this.probes =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "edgeslm-llama-server-supervisor"));
    this.lifecycle =
        Executors.newSingleThreadExecutor(r -> daemon(r, "edgeslm-llama-server-restart"));
    this.backoff =
        new RestartBackoff(
            config.restartBackoffMin(),
            config.restartBackoffMax(),
            config.maxConsecutiveRestarts(),
            STABLE_AFTER);
    this.modelBytes = Files.size(spec.gguf());
    this.health =
        new EngineHealth(EngineHealth.State.STARTING, "Starting llama-server", clock.instant());
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /**
   * Starts a server for the model and returns once it serves.
   *
   * @throws ModelLoadException if the file is not GGUF or the server cannot load it
   * @throws EngineUnavailableException if the server does not start or answer
   * @throws io.edgeslm.inference.InferenceConfigException if the binary or directory is wrong
   */
  public static LlamaServerEngine open(
      EngineConfig.LlamaServerBackend config, ModelSpec spec, Clock clock)
      throws InferenceException {
    GgufCheck.requireLoadable(spec.gguf());
    for (Path lora : spec.loraAdapters()) {
      GgufCheck.requireLoadable(lora);
    }
    Path base =
        config
            .workDirectoryBase()
            .orElse(Path.of(System.getProperty("java.io.tmpdir")))
            .toAbsolutePath();
    LlamaServerEngine engine;
    try {
      engine =
          new LlamaServerEngine(
              config, spec, clock, ChildProcesses.createPrivateDirectory(base, DIRECTORY_PREFIX));
    } catch (IOException e) {
      throw new io.edgeslm.inference.InferenceConfigException(
          "Cannot create llama-server's private directory under '"
              + base
              + "': "
              + e.getMessage()
              + ". Point workDirectoryBase at a writable local directory.",
          e);
    }
    try {
      engine.startServer();
    } catch (InferenceException | RuntimeException e) {
      engine.close();
      throw e;
    }
    long period = Math.min(250, config.healthInterval().toMillis());
    engine.timer.scheduleWithFixedDelay(engine::supervise, period, period, TimeUnit.MILLISECONDS);
    return engine;
  }

  /** Starts one server, waits until it serves, and makes it the session. */
  private void startServer() throws InferenceException {
    long deadline = System.nanoTime() + config.startupTimeout().toNanos();
    LlamaServerProcess p;
    try {
      p =
          LlamaServerProcess.start(
              config, spec, directory, apiKey, output, config.startupTimeout());
    } catch (IOException e) {
      String tail = output.tail();
      if (tail.contains("failed to load model") || tail.contains("error loading model")) {
        throw new ModelLoadException(
            "llama-server could not load '"
                + spec.gguf()
                + "'"
                + GgufCheck.architecture(spec.gguf())
                    .map(a -> " (architecture '" + a + "' in its GGUF header)")
                    .orElse("")
                + ". Check that the file is a complete GGUF model of an architecture this"
                + " llama.cpp release supports. "
                + e.getMessage());
      }
      throw new EngineUnavailableException("llama-server did not start: " + e.getMessage(), e);
    }
    Session s = new Session(p);
    synchronized (lock) {
      if (closed) {
        p.kill();
        throw new EngineUnavailableException("The engine was closed while llama-server started.");
      }
      session = s;
    }
    p.guard().onExit().thenRun(() -> lifecycle.execute(() -> serverLost(s)));
    try {
      URI base = URI.create("http://127.0.0.1:" + p.port());
      EngineConfig.HttpBackend http =
          new EngineConfig.HttpBackend(
              base,
              spec.gguf().getFileName().toString(),
              Optional.of(apiKey),
              Duration.ofSeconds(5),
              config.firstTokenTimeout(),
              config.tokenTimeout(),
              true);
      s.http =
          HttpEngine.open(
              http,
              // Thoughts are cut from the answer with thinking on too: the chat endpoint moves
              // them to reasoning_content, but a raw prompt (and a constrained chat, sent as one)
              // streams them as text.
              new HttpEngine.Options("llama-server", true, true, false, why -> hung(s, why)),
              spec,
              clock);
      awaitHealthy(s, deadline);
      setAdapterScales(s);
      // Warm-up: the first generation pays for lazy allocations; no request should.
      s.http
          .generate(GenerationRequest.ofPrompt("Hello", 1), TokenListener.NONE)
          .result()
          .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (ExecutionException | TimeoutException | InferenceException e) {
      abandon(s);
      String why = e instanceof ExecutionException ? String.valueOf(e.getCause()) : e.toString();
      throw new EngineUnavailableException(
          "llama-server (pid "
              + p.pid()
              + ") did not become ready within "
              + config.startupTimeout()
              + ": "
              + why
              + ". Its last output: "
              + output.tail(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abandon(s);
      throw new EngineUnavailableException("Interrupted while starting llama-server");
    }
    synchronized (lock) {
      s.readyNanos = System.nanoTime();
      s.lastHealthyNanos = s.readyNanos;
      setHealth(
          EngineHealth.State.READY,
          "llama-server pid " + p.pid() + " serves " + spec.gguf().getFileName());
      ChildProcesses.startDaemon("edgeslm-llama-server-health-" + p.pid(), () -> probeLoop(s));
      pump();
    }
  }

  private void awaitHealthy(Session s, long deadline)
      throws InterruptedException, EngineUnavailableException {
    while (System.nanoTime() < deadline) {
      if (!s.process.isAlive()) {
        throw new EngineUnavailableException("llama-server exited: " + s.process.exitDescription());
      }
      if (probe(s, "/health") == 200) {
        return;
      }
      Thread.sleep(50);
    }
    throw new EngineUnavailableException("GET /health never answered 200");
  }

  /**
   * Sets every LoRA adapter's scale explicitly ({@code POST /lora-adapters}, 1.0 each): the server
   * applies adapters given with {@code --lora} at 1.0 on start, but the engine never relies on that
   * default (with {@code --lora-init-without-apply} it still lists them at 1.0), and the adapters
   * must apply before the warm-up and the first request.
   */
  private void setAdapterScales(Session s) throws EngineUnavailableException, InterruptedException {
    if (spec.loraAdapters().isEmpty()) {
      return;
    }
    StringBuilder body = new StringBuilder("[");
    for (int i = 0; i < spec.loraAdapters().size(); i++) {
      body.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"scale\":1.0}");
    }
    body.append(']');
    HttpRequest r =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + s.process.port() + "/lora-adapters"))
            .timeout(config.healthInterval().plusSeconds(5))
            .header("Authorization", "Bearer " + apiKey)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
    int status;
    try {
      status = probes.send(r, HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (IOException e) {
      throw new EngineUnavailableException(
          "llama-server did not take the LoRA adapter scales: " + e.getMessage(), e);
    }
    if (status != 200) {
      throw new EngineUnavailableException(
          "llama-server refused the LoRA adapter scales (POST /lora-adapters answered "
              + status
              + "); the adapters were not applied as configured.");
    }
  }

  /** Status of {@code GET path}, or -1 when the server did not answer in time. */
  private int probe(Session s, String path) {
    try {
      HttpRequest r =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.process.port() + path))
              .timeout(config.healthInterval().plusSeconds(1))
              .header("Authorization", "Bearer " + apiKey)
              .GET()
              .build();
      HttpResponse<String> resp = probes.send(r, HttpResponse.BodyHandlers.ofString());
      if (path.equals("/metrics") && resp.statusCode() == 200) {
        metrics = PrometheusText.parse(resp.body());
        metricsNanos = System.nanoTime();
      }
      return resp.statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private void probeLoop(Session s) {
    long interval = config.healthInterval().toMillis();
    while (s.process.isAlive() && session == s) {
      if (probe(s, "/health") == 200) {
        s.lastHealthyNanos = System.nanoTime();
      }
      try {
        Thread.sleep(interval);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Hang watchdog on health probes; stalled streams report through {@link #hung}. */
  private void supervise() {
    Session s = session;
    if (s == null || closed || s.readyNanos == 0) {
      return;
    }
    long silent = System.nanoTime() - s.lastHealthyNanos;
    if (silent > config.healthTimeout().toNanos()) {
      hung(s, "no answer to GET /health for " + Duration.ofNanos(silent).toMillis() + " ms");
    }
  }

  private void hung(Session s, String why) {
    if (s.hangReason == null && s.process.isAlive()) {
      s.hangReason = why;
      LOG.log(System.Logger.Level.WARNING, "llama-server pid " + s.process.pid() + " hung: " + why);
      s.process.kill();
    }
  }

  private void abandon(Session s) {
    synchronized (lock) {
      if (session == s) {
        session = null;
      }
    }
    if (s.http != null) {
      s.http.close();
    }
    s.process.kill();
  }

  /** Runs on the lifecycle thread when a server process has ended. */
  private void serverLost(Session s) {
    s.process.kill(); // helpers and the lifeline
    String message;
    synchronized (lock) {
      if (session != s) {
        return;
      }
      session = null;
      String hang = s.hangReason;
      message =
          "llama-server (pid "
              + s.process.pid()
              + ") "
              + (hang != null ? "hung (" + hang + ") and was killed" : "died")
              + ", "
              + s.process.exitDescription()
              + ". "
              + (closed
                  ? "The engine is closed."
                  : "It restarts automatically; retry the request. Server output: "
                      + s.process.outputTail());
      s.deathMessage = message;
    }
    HttpEngine http = s.http;
    if (http != null) {
      http.failAll(new EngineUnavailableException(message));
      http.close();
    }
    synchronized (lock) {
      if (closed || s.readyNanos == 0) {
        return; // not serving yet: the thread starting it reports the failure
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
              + " failed llama-server restarts in a row. Last failure: "
              + why
              + " Check the model and the server log, then reopen the engine.");
      EngineUnavailableException e = new EngineUnavailableException(health.detail());
      waiting.forEach(r -> r.fail(e));
      waiting.clear();
      return;
    }
    setHealth(
        EngineHealth.State.RESTARTING,
        "Restart "
            + d.attempt()
            + " of at most "
            + config.maxConsecutiveRestarts()
            + " in "
            + d.delay().toMillis()
            + " ms after: "
            + why);
    timer.schedule(
        () -> lifecycle.execute(this::restart), d.delay().toMillis(), TimeUnit.MILLISECONDS);
  }

  private void restart() {
    synchronized (lock) {
      if (closed) {
        return;
      }
    }
    restarts.incrementAndGet();
    try {
      startServer();
    } catch (InferenceException | RuntimeException e) {
      synchronized (lock) {
        if (!closed) {
          scheduleRestart(e.getMessage(), Duration.ZERO);
        }
      }
    }
  }

  /** Sends waiting requests to a serving server. Caller holds the lock. */
  private void pump() {
    Session s = session;
    if (s == null || s.readyNanos == 0 || closed) {
      return;
    }
    while (!waiting.isEmpty()) {
      waiting.poll().dispatch(s);
    }
  }

  @Override
  public EngineInfo info() {
    return new EngineInfo(
        "llama-server",
        spec.gguf().getFileName().toString(),
        spec.contextSize(),
        spec.parallelSlots(),
        modelBytes);
  }

  @Override
  public Generation generate(GenerationRequest request, TokenListener listener)
      throws InferenceException {
    Request r = new Request(ids.incrementAndGet(), request, listener);
    synchronized (lock) {
      if (closed || health.state() == EngineHealth.State.FAILED) {
        throw new EngineUnavailableException("The engine is not serving: " + health.detail());
      }
      waiting.add(r);
      pump();
    }
    return r;
  }

  @Override
  public int countPromptTokens(GenerationRequest request) throws InferenceException {
    Session s = session;
    if (s == null || s.readyNanos == 0 || closed) {
      throw new EngineUnavailableException(
          "The engine cannot count tokens now: " + health.detail());
    }
    return s.http.countPromptTokens(request);
  }

  @Override
  public int countPromptTokensWithin(GenerationRequest request, int limit)
      throws InferenceException {
    Session s = session;
    if (s == null || s.readyNanos == 0 || closed) {
      throw new EngineUnavailableException(
          "The engine cannot count tokens now: " + health.detail());
    }
    return s.http.countPromptTokensWithin(request, limit);
  }

  @Override
  public EngineHealth health() {
    return health;
  }

  @Override
  public EngineStats stats() {
    Session s = session;
    return new EngineStats(
        s == null ? -1 : s.process.pid(),
        restarts.get(),
        started.get(),
        failed.get(),
        tokens.get(),
        (int) Math.max(0, running.get()));
  }

  /**
   * The server's own Prometheus metrics ({@code llamacpp:*}, from its {@code /metrics}), read at
   * most every 5 s; empty while no server serves.
   */
  @Override
  public Map<String, Double> nativeMetrics() {
    Session s = session;
    if (s == null || s.readyNanos == 0) {
      return Map.of();
    }
    if (System.nanoTime() - metricsNanos > METRICS_MAX_AGE.toNanos()) {
      probe(s, "/metrics");
    }
    return metrics;
  }

  /** The llama-server's pid, or -1 while none runs. For tests and diagnostics. */
  public long serverPid() {
    Session s = session;
    return s == null ? -1 : s.process.pid();
  }

  /** The engine's private directory (API key file, server log). For tests and diagnostics. */
  public Path directory() {
    return directory;
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
      waiting.forEach(r -> r.fail(e));
      waiting.clear();
      setHealth(EngineHealth.State.CLOSED, "Closed");
    }
    timer.shutdownNow();
    if (s != null) {
      if (s.http != null) {
        s.http.failAll(
            new EngineUnavailableException("The engine was closed; the request did not finish."));
        s.http.close();
      }
      s.process.stop(STOP_GRACE);
    }
    lifecycle.shutdownNow();
    probes.shutdownNow();
    output.close();
    ChildProcesses.deleteTree(directory);
  }

  private void setHealth(EngineHealth.State state, String detail) {
    health = new EngineHealth(state, detail, clock.instant());
  }

  /** One request: waits here while no server serves, then runs as one HTTP call. */
  private final class Request implements Generation {
    final long id;
    final GenerationRequest request;
    final TokenListener listener;
    final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    volatile Generation call;
    volatile boolean cancelled;

    Request(long id, GenerationRequest request, TokenListener listener) {
      this.id = id;
      this.request = request;
      this.listener = listener == null ? TokenListener.NONE : listener;
    }

    /** Caller holds the lock. */
    void dispatch(Session s) {
      started.incrementAndGet();
      running.incrementAndGet();
      TokenListener counting =
          piece -> {
            tokens.incrementAndGet();
            listener.onToken(piece);
          };
      Generation g;
      try {
        g = s.http.generate(request, counting);
      } catch (InferenceException e) {
        running.decrementAndGet();
        fail(e);
        return;
      }
      call = g;
      g.result().whenComplete((r, e) -> finished(s, r, e));
      if (cancelled) {
        g.cancel();
      }
    }

    private void finished(Session s, GenerationResult r, Throwable e) {
      running.decrementAndGet();
      if (e == null) {
        future.complete(r);
        return;
      }
      Throwable cause = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
      if (cause instanceof EngineUnavailableException) {
        // A broken stream usually means the server died: wait briefly for the supervisor's
        // account of it, which names the cause and the server's last words.
        try {
          s.process.guard().onExit().get(DEATH_NOTICE.toMillis(), TimeUnit.MILLISECONDS);
          for (int i = 0; i < 20 && s.deathMessage == null; i++) {
            Thread.sleep(25);
          }
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException ignored) {
          // Still alive: the stream's own error stands.
        }
        String death = s.deathMessage;
        if (death != null && !death.equals(cause.getMessage())) {
          cause = new EngineUnavailableException(death, cause);
        }
        failed.incrementAndGet();
      }
      future.completeExceptionally(cause);
    }

    void fail(InferenceException e) {
      if (future.completeExceptionally(e)) {
        failed.incrementAndGet();
      }
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public void cancel() {
      cancelled = true;
      Generation g = call;
      if (g != null) {
        g.cancel();
        return;
      }
      boolean removed;
      synchronized (lock) {
        removed = waiting.remove(this);
      }
      if (removed) {
        future.complete(
            new GenerationResult(
                "",
                -1,
                0,
                FinishReason.CANCELLED,
                new GenerationTimings(Duration.ZERO, Duration.ZERO, Duration.ZERO, 0)));
      }
    }

    @Override
    public CompletableFuture<GenerationResult> result() {
      return future;
    }
  }
}
