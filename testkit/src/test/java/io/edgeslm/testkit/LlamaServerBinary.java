package io.edgeslm.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the tests find the current llama.cpp's {@code llama-server}, as the inference module's
 * tests do: the system property {@code edgeslm.llama-server}, else the environment variable {@code
 * EDGESLM_LLAMA_SERVER}, else the build cache {@code scripts/ensure-llama-server.sh} fills ({@code
 * $XDG_CACHE_HOME} or {@code ~/.cache}, then {@code edgeslm/llama.cpp/current/bin}).
 */
final class LlamaServerBinary {
  private LlamaServerBinary() {}

  /** The binary; an {@link AssertionError} (a failure, not a skip) when it is missing. */
  static Path require() {
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
