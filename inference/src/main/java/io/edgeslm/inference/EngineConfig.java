package io.edgeslm.inference;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Which backend runs the model, and its supervision settings. */
public sealed interface EngineConfig {

  /**
   * llama.cpp (through {@code de.kherud:llama}) in a child JVM supervised by this process.
   *
   * @param javaExecutable the {@code java} to start; empty = the one running this process
   * @param extraClasspath entries added to the worker's class path (normally empty: the worker's
   *     class path is derived from where this library and the binding were loaded from)
   * @param workDirectoryBase parent of the worker's private directory (holds its socket and the
   *     binding's extracted native library); empty = {@code java.io.tmpdir}
   * @param maxHeapMegabytes worker JVM heap, 32..4096; the model itself lives off-heap
   * @param startupTimeout bound on starting the JVM and loading the model
   * @param heartbeatInterval how often the supervisor pings the worker
   * @param heartbeatTimeout a worker silent this long is killed and restarted
   * @param firstTokenTimeout a request without its first token after this long (prompt processing)
   *     counts as a hang: the worker is killed and restarted
   * @param tokenTimeout a request without a new token for this long counts as a hang
   * @param restartBackoffMin first restart delay; doubles per consecutive failure
   * @param restartBackoffMax cap of the restart delay
   * @param maxConsecutiveRestarts failures in a row (without a stable minute between) after which
   *     the engine gives up and reports FAILED
   */
  record WorkerBackend(
      Optional<Path> javaExecutable,
      List<Path> extraClasspath,
      Optional<Path> workDirectoryBase,
      int maxHeapMegabytes,
      Duration startupTimeout,
      Duration heartbeatInterval,
      Duration heartbeatTimeout,
      Duration firstTokenTimeout,
      Duration tokenTimeout,
      Duration restartBackoffMin,
      Duration restartBackoffMax,
      int maxConsecutiveRestarts)
      implements EngineConfig {

    public WorkerBackend {
      Objects.requireNonNull(javaExecutable, "javaExecutable");
      extraClasspath = List.copyOf(Objects.requireNonNull(extraClasspath, "extraClasspath"));
      Objects.requireNonNull(workDirectoryBase, "workDirectoryBase");
      if (maxHeapMegabytes < 32 || maxHeapMegabytes > 4096) {
        throw new IllegalArgumentException(
            "maxHeapMegabytes must be in 32..4096, was " + maxHeapMegabytes);
      }
      positive("startupTimeout", startupTimeout);
      positive("heartbeatInterval", heartbeatInterval);
      positive("heartbeatTimeout", heartbeatTimeout);
      positive("firstTokenTimeout", firstTokenTimeout);
      positive("tokenTimeout", tokenTimeout);
      positive("restartBackoffMin", restartBackoffMin);
      positive("restartBackoffMax", restartBackoffMax);
      if (heartbeatTimeout.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
        throw new IllegalArgumentException(
            "heartbeatTimeout ("
                + heartbeatTimeout
                + ") must be at least twice heartbeatInterval ("
                + heartbeatInterval
                + ") or a busy but healthy worker would be killed.");
      }
      if (restartBackoffMax.compareTo(restartBackoffMin) < 0) {
        throw new IllegalArgumentException("restartBackoffMax must be >= restartBackoffMin");
      }
      if (maxConsecutiveRestarts < 1 || maxConsecutiveRestarts > 1000) {
        throw new IllegalArgumentException(
            "maxConsecutiveRestarts must be in 1..1000, was " + maxConsecutiveRestarts);
      }
    }

    /**
     * Defaults for a gateway: 256 MB heap, 120 s startup, ping every second, 15 s heartbeat
     * timeout, 120 s to the first token, 30 s between tokens, restarts after 0.5 s doubling to 30
     * s, give up after 10 failures in a row.
     */
    public static WorkerBackend defaults() {
      return new WorkerBackend(
          Optional.empty(),
          List.of(),
          Optional.empty(),
          256,
          Duration.ofSeconds(120),
          Duration.ofSeconds(1),
          Duration.ofSeconds(15),
          Duration.ofSeconds(120),
          Duration.ofSeconds(30),
          Duration.ofMillis(500),
          Duration.ofSeconds(30),
          10);
    }

    public WorkerBackend withHangTimeouts(Duration firstToken, Duration betweenTokens) {
      return new WorkerBackend(
          javaExecutable,
          extraClasspath,
          workDirectoryBase,
          maxHeapMegabytes,
          startupTimeout,
          heartbeatInterval,
          heartbeatTimeout,
          firstToken,
          betweenTokens,
          restartBackoffMin,
          restartBackoffMax,
          maxConsecutiveRestarts);
    }

    public WorkerBackend withHeartbeat(Duration interval, Duration timeout) {
      return new WorkerBackend(
          javaExecutable,
          extraClasspath,
          workDirectoryBase,
          maxHeapMegabytes,
          startupTimeout,
          interval,
          timeout,
          firstTokenTimeout,
          tokenTimeout,
          restartBackoffMin,
          restartBackoffMax,
          maxConsecutiveRestarts);
    }

    public WorkerBackend withRestartBackoff(Duration min, Duration max, int maxConsecutive) {
      return new WorkerBackend(
          javaExecutable,
          extraClasspath,
          workDirectoryBase,
          maxHeapMegabytes,
          startupTimeout,
          heartbeatInterval,
          heartbeatTimeout,
          firstTokenTimeout,
          tokenTimeout,
          min,
          max,
          maxConsecutive);
    }

    public WorkerBackend withWorkDirectoryBase(Path base) {
      return new WorkerBackend(
          javaExecutable,
          extraClasspath,
          Optional.of(base),
          maxHeapMegabytes,
          startupTimeout,
          heartbeatInterval,
          heartbeatTimeout,
          firstTokenTimeout,
          tokenTimeout,
          restartBackoffMin,
          restartBackoffMax,
          maxConsecutiveRestarts);
    }
  }

  /**
   * A current llama.cpp: a {@code llama-server} child process this process starts for the model,
   * bound to 127.0.0.1 on a port the server picks, guarded by a random API key (passed in a file
   * readable only by this user, never on the command line), and supervised like the worker: health
   * probes, a token watchdog, restarts with backoff, FAILED after repeated failure. Requests go to
   * it over HTTP with prompt caching on (docs/adr/0022-llama-server-engine.md).
   *
   * @param executable the {@code llama-server} binary ({@code scripts/ensure-llama-server.sh}
   *     builds the pinned release)
   * @param workDirectoryBase parent of the engine's private directory (API key file, server log);
   *     empty = {@code java.io.tmpdir}
   * @param startupTimeout bound on starting the server and loading the model
   * @param healthInterval how often {@code GET /health} is probed
   * @param healthTimeout a server that answers no probe for this long is hung: killed and restarted
   * @param firstTokenTimeout a request without its first token after this long counts as a hang
   * @param tokenTimeout a request without a new token for this long counts as a hang
   * @param restartBackoffMin first restart delay; doubles per consecutive failure
   * @param restartBackoffMax cap of the restart delay
   * @param maxConsecutiveRestarts failures in a row (without a stable minute between) after which
   *     the engine reports FAILED
   * @param thinking whether reasoning models may "think" before answering; when false the server is
   *     started with reasoning off and a reasoning budget of 0 (the template then renders the
   *     prompt with an empty thought block), so thoughts never eat an answer's budget. Either way a
   *     {@code <think>...</think>} span in the streamed text is cut from the answer
   * @param cacheRamMegabytes host-memory prompt cache of the server across slots (llama-server
   *     {@code --cache-ram}), 0..65536; 0 turns it off
   */
  record LlamaServerBackend(
      Path executable,
      Optional<Path> workDirectoryBase,
      Duration startupTimeout,
      Duration healthInterval,
      Duration healthTimeout,
      Duration firstTokenTimeout,
      Duration tokenTimeout,
      Duration restartBackoffMin,
      Duration restartBackoffMax,
      int maxConsecutiveRestarts,
      boolean thinking,
      int cacheRamMegabytes)
      implements EngineConfig {

    public LlamaServerBackend {
      Objects.requireNonNull(executable, "executable");
      executable = executable.toAbsolutePath().normalize();
      Objects.requireNonNull(workDirectoryBase, "workDirectoryBase");
      positive("startupTimeout", startupTimeout);
      positive("healthInterval", healthInterval);
      positive("healthTimeout", healthTimeout);
      positive("firstTokenTimeout", firstTokenTimeout);
      positive("tokenTimeout", tokenTimeout);
      positive("restartBackoffMin", restartBackoffMin);
      positive("restartBackoffMax", restartBackoffMax);
      if (healthTimeout.compareTo(healthInterval.multipliedBy(2)) < 0) {
        throw new IllegalArgumentException(
            "healthTimeout ("
                + healthTimeout
                + ") must be at least twice healthInterval ("
                + healthInterval
                + ") or a busy but healthy server would be killed.");
      }
      if (restartBackoffMax.compareTo(restartBackoffMin) < 0) {
        throw new IllegalArgumentException("restartBackoffMax must be >= restartBackoffMin");
      }
      if (maxConsecutiveRestarts < 1 || maxConsecutiveRestarts > 1000) {
        throw new IllegalArgumentException(
            "maxConsecutiveRestarts must be in 1..1000, was " + maxConsecutiveRestarts);
      }
      if (cacheRamMegabytes < 0 || cacheRamMegabytes > 65536) {
        throw new IllegalArgumentException(
            "cacheRamMegabytes must be in 0..65536, was " + cacheRamMegabytes);
      }
    }

    /**
     * Defaults for a gateway: 120 s startup, a health probe every second with a 15 s bound, 120 s
     * to the first token, 30 s between tokens, restarts after 0.5 s doubling to 30 s, give up after
     * 10 failures in a row, thinking off, 256 MiB prompt cache.
     */
    public static LlamaServerBackend of(Path executable) {
      return new LlamaServerBackend(
          executable,
          Optional.empty(),
          Duration.ofSeconds(120),
          Duration.ofSeconds(1),
          Duration.ofSeconds(15),
          Duration.ofSeconds(120),
          Duration.ofSeconds(30),
          Duration.ofMillis(500),
          Duration.ofSeconds(30),
          10,
          false,
          256);
    }

    public LlamaServerBackend withHangTimeouts(Duration firstToken, Duration betweenTokens) {
      return new LlamaServerBackend(
          executable,
          workDirectoryBase,
          startupTimeout,
          healthInterval,
          healthTimeout,
          firstToken,
          betweenTokens,
          restartBackoffMin,
          restartBackoffMax,
          maxConsecutiveRestarts,
          thinking,
          cacheRamMegabytes);
    }

    public LlamaServerBackend withHealthProbe(Duration interval, Duration timeout) {
      return new LlamaServerBackend(
          executable,
          workDirectoryBase,
          startupTimeout,
          interval,
          timeout,
          firstTokenTimeout,
          tokenTimeout,
          restartBackoffMin,
          restartBackoffMax,
          maxConsecutiveRestarts,
          thinking,
          cacheRamMegabytes);
    }

    public LlamaServerBackend withRestartBackoff(Duration min, Duration max, int maxConsecutive) {
      return new LlamaServerBackend(
          executable,
          workDirectoryBase,
          startupTimeout,
          healthInterval,
          healthTimeout,
          firstTokenTimeout,
          tokenTimeout,
          min,
          max,
          maxConsecutive,
          thinking,
          cacheRamMegabytes);
    }

    public LlamaServerBackend withWorkDirectoryBase(Path base) {
      return new LlamaServerBackend(
          executable,
          Optional.of(base),
          startupTimeout,
          healthInterval,
          healthTimeout,
          firstTokenTimeout,
          tokenTimeout,
          restartBackoffMin,
          restartBackoffMax,
          maxConsecutiveRestarts,
          thinking,
          cacheRamMegabytes);
    }

    /** Whether reasoning models may think before answering (see the record's docs). */
    public LlamaServerBackend withThinking(boolean on) {
      return new LlamaServerBackend(
          executable,
          workDirectoryBase,
          startupTimeout,
          healthInterval,
          healthTimeout,
          firstTokenTimeout,
          tokenTimeout,
          restartBackoffMin,
          restartBackoffMax,
          maxConsecutiveRestarts,
          on,
          cacheRamMegabytes);
    }
  }

  /**
   * An OpenAI-compatible server (llama-server, Ollama, vLLM) reached over HTTP, streaming with
   * server-sent events. The {@link ModelSpec} given to {@link InferenceEngines#open} is used only
   * for its context and slot numbers; the server owns the model file.
   *
   * @param baseUri server root, e.g. {@code http://127.0.0.1:8080} (the {@code /v1/...} paths are
   *     appended)
   * @param model model id sent in each request (Ollama and vLLM need it; llama-server ignores it)
   * @param apiKey bearer token, if the server wants one
   * @param connectTimeout TCP connect bound
   * @param firstTokenTimeout bound on the wait for response headers and the first token
   * @param tokenTimeout bound on the wait between two streamed events
   * @param tokenizeEndpoint whether the server offers llama-server's {@code POST /tokenize}; when
   *     false prompt tokens are estimated (an upper bound: UTF-8 bytes / 2 + 16)
   */
  record HttpBackend(
      URI baseUri,
      String model,
      Optional<String> apiKey,
      Duration connectTimeout,
      Duration firstTokenTimeout,
      Duration tokenTimeout,
      boolean tokenizeEndpoint)
      implements EngineConfig {

    public HttpBackend {
      Objects.requireNonNull(baseUri, "baseUri");
      String scheme = baseUri.getScheme();
      if (!"http".equals(scheme) && !"https".equals(scheme)) {
        throw new IllegalArgumentException(
            "baseUri must be an http or https URI, was '" + baseUri + "'.");
      }
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(apiKey, "apiKey");
      positive("connectTimeout", connectTimeout);
      positive("firstTokenTimeout", firstTokenTimeout);
      positive("tokenTimeout", tokenTimeout);
    }

    /** A server at {@code baseUri} with 5 s connect, 120 s first token, 30 s between tokens. */
    public static HttpBackend of(URI baseUri, String model, boolean tokenizeEndpoint) {
      return new HttpBackend(
          baseUri,
          model,
          Optional.empty(),
          Duration.ofSeconds(5),
          Duration.ofSeconds(120),
          Duration.ofSeconds(30),
          tokenizeEndpoint);
    }
  }

  private static void positive(String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + d);
    }
  }
}
