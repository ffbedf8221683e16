package io.edgeslm.agent.internal.config;

import io.edgeslm.inference.EngineConfig;
import java.util.Objects;

/**
 * The engine the agent runs models with, as configuration decided it.
 *
 * @param kind {@code llama-server}, {@code worker} or {@code http}
 * @param config the inference module's settings for it
 * @param reason one sentence for the log: why this engine (configured, found where, fallback)
 */
public record EngineChoice(String kind, EngineConfig config, String reason) {
  public EngineChoice {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(reason, "reason");
  }

  /** Whether the agent loads the model file itself (false for an external server). */
  public boolean loadsModelFiles() {
    return !(config instanceof EngineConfig.HttpBackend);
  }
}
