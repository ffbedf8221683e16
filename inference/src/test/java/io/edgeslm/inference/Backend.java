package io.edgeslm.inference;

import io.edgeslm.inference.internal.llamaserver.LlamaServerEngine;
import io.edgeslm.inference.internal.worker.WorkerEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The engines the integration tests run on: each test that is about engine behaviour (not about one
 * engine's internals) runs once per constant. The llama-server engine needs the binary that {@code
 * scripts/ensure-llama-server.sh} builds; without it the tests fail, naming the script.
 */
enum Backend {
  WORKER,
  LLAMA_SERVER;

  /** Test settings: short backoff, default hang bounds, private directories under /tmp. */
  EngineConfig config() {
    return switch (this) {
      case WORKER -> TestModels.worker();
      case LLAMA_SERVER -> llamaServer();
    };
  }

  /** As {@link #config()} with a faster liveness probe: {@code interval} and {@code timeout}. */
  EngineConfig withLiveness(Duration interval, Duration timeout) {
    return switch (this) {
      case WORKER -> TestModels.worker().withHeartbeat(interval, timeout);
      case LLAMA_SERVER -> llamaServer().withHealthProbe(interval, timeout);
    };
  }

  /** As {@link #withLiveness} plus token watchdog bounds. */
  EngineConfig withHangs(
      Duration interval, Duration timeout, Duration firstToken, Duration betweenTokens) {
    return switch (this) {
      case WORKER ->
          TestModels.worker()
              .withHeartbeat(interval, timeout)
              .withHangTimeouts(firstToken, betweenTokens);
      case LLAMA_SERVER ->
          llamaServer()
              .withHealthProbe(interval, timeout)
              .withHangTimeouts(firstToken, betweenTokens);
    };
  }

  /** The pid of the process that runs llama.cpp for {@code engine}. */
  static long enginePid(InferenceEngine engine) {
    return switch (engine) {
      case WorkerEngine w -> w.workerPid();
      case LlamaServerEngine l -> l.serverPid();
      default -> throw new IllegalArgumentException("not a process engine: " + engine);
    };
  }

  /** How the engine's message about its process starts: "<who> (pid N)". */
  String processName(long pid) {
    return switch (this) {
      case WORKER -> "The inference worker (pid " + pid + ")";
      case LLAMA_SERVER -> "llama-server (pid " + pid + ")";
    };
  }

  /** The start of the message for a process that died on its own, e.g. by SIGKILL. */
  String diedPrefix(long pid) {
    return switch (this) {
      case WORKER -> processName(pid) + " died: ";
      case LLAMA_SERVER -> processName(pid) + " died, ";
    };
  }

  static EngineConfig.LlamaServerBackend llamaServer() {
    return EngineConfig.LlamaServerBackend.of(llamaServerBinary())
        .withRestartBackoff(Duration.ofMillis(200), Duration.ofSeconds(2), 10)
        .withWorkDirectoryBase(Path.of("/tmp"));
  }

  /**
   * The llama-server to test with: system property {@code edgeslm.llama-server}, else environment
   * variable {@code EDGESLM_LLAMA_SERVER}, else the build cache's {@code current} entry.
   */
  static Path llamaServerBinary() {
    String configured = System.getProperty("edgeslm.llama-server");
    if (configured == null || configured.isBlank()) {
      configured = System.getenv("EDGESLM_LLAMA_SERVER");
    }
    Path p;
    if (configured != null && !configured.isBlank()) {
      p = Path.of(configured);
    } else {
      String cache = System.getenv("XDG_CACHE_HOME");
      Path base =
          cache == null || cache.isBlank()
              ? Path.of(System.getProperty("user.home"), ".cache")
              : Path.of(cache);
      p = base.resolve("edgeslm/llama.cpp/current/bin/llama-server");
    }
    if (!Files.isExecutable(p)) {
      throw new AssertionError(
          "No llama-server at "
              + p
              + ". Build the pinned llama.cpp with scripts/ensure-llama-server.sh (./run-tests does),"
              + " or set EDGESLM_LLAMA_SERVER to an llama-server binary.");
    }
    return p;
  }
}
