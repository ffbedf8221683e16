package io.edgeslm.inference;

import io.edgeslm.inference.internal.http.HttpEngine;
import io.edgeslm.inference.internal.llamaserver.LlamaServerEngine;
import io.edgeslm.inference.internal.worker.WorkerEngine;
import java.time.Clock;
import java.util.Objects;

/** Opens engines. The entry point for code that wants an {@link InferenceEngine}. */
public final class InferenceEngines {
  private InferenceEngines() {}

  /**
   * Opens an engine and returns once it serves.
   *
   * <p>Worker backend: checks the GGUF header, starts a child JVM with a private directory, loads
   * the model there and starts supervising it. HTTP backend: checks that the server answers and
   * lists a model.
   *
   * @throws ModelLoadException if the model file is missing, not GGUF, or fails to load
   * @throws EngineUnavailableException if the worker does not start or the server is unreachable
   * @throws InferenceConfigException if the configuration cannot work (no java, bad directory)
   */
  public static InferenceEngine open(EngineConfig config, ModelSpec spec)
      throws InferenceException {
    return open(config, spec, Clock.systemUTC());
  }

  /** As {@link #open(EngineConfig, ModelSpec)}, with the clock used for health timestamps. */
  public static InferenceEngine open(EngineConfig config, ModelSpec spec, Clock clock)
      throws InferenceException {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(clock, "clock");
    return switch (config) {
      case EngineConfig.WorkerBackend w -> WorkerEngine.open(w, spec, clock);
      case EngineConfig.HttpBackend h -> HttpEngine.open(h, spec, clock);
      case EngineConfig.LlamaServerBackend l -> LlamaServerEngine.open(l, spec, clock);
    };
  }
}
