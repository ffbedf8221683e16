package io.edgeslm.agent.internal.config;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.inference.EngineConfig;
import java.io.File;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides the engine from {@code edgeslm.agent.model.engine} and its keys. Reads only the given
 * environment and asks the file system whether a binary exists and is executable.
 */
final class EngineSelection {
  static final Set<String> KINDS = Set.of("auto", "llama-server", "worker", "http");

  private EngineSelection() {}

  static EngineChoice choose(AgentConfig.Model m, Map<String, String> env)
      throws AgentConfigException {
    String kind = m.engine().strip().toLowerCase(Locale.ROOT);
    if (!KINDS.contains(kind)) {
      throw ConfigValidator.invalid(
          "model.engine", m.engine(), "one of auto, llama-server, worker, http");
    }
    switch (kind) {
      case "worker" -> {
        return new EngineChoice("worker", worker(m), "model.engine=worker");
      }
      case "http" -> {
        return http(m);
      }
      case "llama-server" -> {
        Optional<Found> f = find(m, env);
        if (f.isEmpty()) {
          throw ConfigValidator.invalid(
              "model.engine",
              m.engine(),
              "a llama-server binary: set edgeslm.agent.model.llama-server to its path, put"
                  + " llama-server on PATH, or build the pinned release with"
                  + " scripts/ensure-llama-server.sh (docs/inference.md, \"Installing the"
                  + " engine\"); or choose model.engine=worker");
        }
        return llamaServer(m, f.get());
      }
      default -> {
        Optional<Found> f = find(m, env);
        return f.isPresent()
            ? llamaServer(m, f.get())
            : new EngineChoice(
                "worker",
                worker(m),
                "model.engine=auto and no llama-server found (model.llama-server,"
                    + " EDGESLM_LLAMA_SERVER, PATH, build cache): the bundled worker (llama.cpp"
                    + " b4916) runs the model");
      }
    }
  }

  private record Found(Path binary, String where) {}

  private static EngineConfig.WorkerBackend worker(AgentConfig.Model m) {
    EngineConfig.WorkerBackend d = EngineConfig.WorkerBackend.defaults();
    return d.withHangTimeouts(m.firstTokenTimeout(), d.tokenTimeout())
        .withRestartBackoff(
            d.restartBackoffMin(), m.restartBackoffMax(), d.maxConsecutiveRestarts());
  }

  private static EngineConfig.LlamaServerBackend withAgentTimeouts(
      EngineConfig.LlamaServerBackend b, AgentConfig.Model m) {
    return b.withHangTimeouts(m.firstTokenTimeout(), b.tokenTimeout())
        .withRestartBackoff(
            b.restartBackoffMin(), m.restartBackoffMax(), b.maxConsecutiveRestarts());
  }

  private static EngineChoice llamaServer(AgentConfig.Model m, Found f) {
    return new EngineChoice(
        "llama-server",
        withAgentTimeouts(EngineConfig.LlamaServerBackend.of(f.binary()), m)
            .withThinking(m.thinking()),
        "llama-server " + f.binary() + " (" + f.where() + ")");
  }

  private static Optional<Found> find(AgentConfig.Model m, Map<String, String> env)
      throws AgentConfigException {
    if (m.llamaServer().isPresent() && !m.llamaServer().get().isBlank()) {
      Path p = Path.of(m.llamaServer().get());
      if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
        throw ConfigValidator.invalid(
            "model.llama-server",
            m.llamaServer().get(),
            "an executable llama-server binary (build one with scripts/ensure-llama-server.sh)");
      }
      return Optional.of(new Found(p, "model.llama-server"));
    }
    String fromEnv = env.get("EDGESLM_LLAMA_SERVER");
    if (fromEnv != null && !fromEnv.isBlank() && Files.isExecutable(Path.of(fromEnv))) {
      return Optional.of(new Found(Path.of(fromEnv), "EDGESLM_LLAMA_SERVER"));
    }
    String path = env.getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isBlank()) {
        Path p = Path.of(dir, "llama-server");
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return Optional.of(new Found(p, "PATH"));
        }
      }
    }
    String cache = env.get("XDG_CACHE_HOME");
    String home = env.get("HOME");
    Path base =
        cache != null && !cache.isBlank()
            ? Path.of(cache)
            : home != null && !home.isBlank() ? Path.of(home, ".cache") : null;
    if (base != null) {
      Path p = base.resolve("edgeslm/llama.cpp/current/bin/llama-server");
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(new Found(p, "build cache of scripts/ensure-llama-server.sh"));
      }
    }
    return Optional.empty();
  }

  private static EngineChoice http(AgentConfig.Model m) throws AgentConfigException {
    String raw = m.httpUrl().filter(s -> !s.isBlank()).orElse(null);
    if (raw == null) {
      throw ConfigValidator.invalid(
          "model.http.url",
          "",
          "the server's root URL, e.g. http://127.0.0.1:11434, with engine http");
    }
    URI uri;
    try {
      uri = new URI(raw);
    } catch (URISyntaxException e) {
      throw ConfigValidator.invalid("model.http.url", raw, "an http:// or https:// URL");
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
      throw ConfigValidator.invalid("model.http.url", raw, "an http:// or https:// URL");
    }
    String model = m.httpModel().filter(s -> !s.isBlank()).orElse(null);
    if (model == null) {
      throw ConfigValidator.invalid(
          "model.http.model", "", "the model id the server serves (Ollama: e.g. llama3.2:1b)");
    }
    EngineConfig.HttpBackend base = EngineConfig.HttpBackend.of(uri, model, m.httpTokenize());
    EngineConfig.HttpBackend cfg =
        new EngineConfig.HttpBackend(
            base.baseUri(),
            base.model(),
            m.httpApiKey().filter(s -> !s.isBlank()),
            base.connectTimeout(),
            m.firstTokenTimeout(),
            base.tokenTimeout(),
            base.tokenizeEndpoint());
    return new EngineChoice("http", cfg, "external server " + uri + ", model " + model);
  }
}
