package io.edgeslm.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the tests find the current llama.cpp's {@code llama-server}: the system property {@code
 * edgeslm.llama.server}, else the environment variable {@code EDGESLM_LLAMA_SERVER}, else the build
 * cache the project's CI fills ({@code ~/.cache/edgeslm/llama.cpp/current/bin}).
 */
final class LlamaServerBinary {
  private LlamaServerBinary() {}

  /** The binary; an {@link AssertionError} (a failure, not a skip) when it is missing. */
  static Path require() {
    String configured = System.getProperty("edgeslm.llama.server");
    if (configured == null || configured.isBlank()) {
      configured = System.getenv("EDGESLM_LLAMA_SERVER");
    }
    Path p =
        configured != null && !configured.isBlank()
            ? Path.of(configured)
            : Path.of(
                System.getProperty("user.home"),
                ".cache",
                "edgeslm",
                "llama.cpp",
                "current",
                "bin",
                "llama-server");
    if (!Files.isExecutable(p)) {
      throw new AssertionError(
          "No llama-server at "
              + p
              + ". Build the pinned llama.cpp as CI does (see docs/development.md) or point"
              + " -Dedgeslm.llama.server / EDGESLM_LLAMA_SERVER at a llama-server binary.");
    }
    return p;
  }
}
