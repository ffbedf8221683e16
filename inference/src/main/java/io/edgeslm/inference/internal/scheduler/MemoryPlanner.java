package io.edgeslm.inference.internal.scheduler;

import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Decides whether a new model fits next to the one serving now.
 *
 * <p>Need of a worker: the model file (llama.cpp maps it and touches every weight), its KV cache
 * (estimated, see {@link #kvEstimate}), the worker JVM's heap bound and 64 MiB of JVM overhead.
 * Side by side is chosen when {@code MemAvailable} (Linux {@code /proc/meminfo}) exceeds that need
 * by 20 %. The old model's pages are already resident, so only the new worker's need counts.
 */
public final class MemoryPlanner {
  private static final long MIB = 1024 * 1024;

  private MemoryPlanner() {}

  /** The choice and the figures behind it. */
  public record Decision(boolean sideBySide, long needBytes, long availableBytes, String reason) {}

  public static Decision decide(EngineConfig config, ModelSpec spec, long currentModelBytes) {
    long available = availableBytes(Path.of("/proc/meminfo"));
    return decide(config, spec, available, fileSize(spec.gguf()));
  }

  /** Pure form, for tests. */
  public static Decision decide(
      EngineConfig config, ModelSpec spec, long availableBytes, long modelBytes) {
    if (config instanceof EngineConfig.HttpBackend) {
      return new Decision(
          true, 0, availableBytes, "HTTP backend: the server holds the model, not this node.");
    }
    // The worker is a JVM with its own heap; llama-server's own overhead (HTTP threads, compute
    // buffers) is of the same order, so the same allowance stands in for it.
    long heap =
        config instanceof EngineConfig.WorkerBackend w
            ? w.maxHeapMegabytes() * MIB
            : EngineConfig.WorkerBackend.defaults().maxHeapMegabytes() * MIB;
    long need = modelBytes + kvEstimate(modelBytes, spec) + heap + 64 * MIB;
    long withMargin = need + need / 5;
    if (availableBytes < 0) {
      return new Decision(
          false,
          need,
          availableBytes,
          "Available memory unknown (no /proc/meminfo): stopping the old model first to be safe.");
    }
    boolean fits = availableBytes >= withMargin;
    String reason =
        String.format(
            "New worker needs about %d MiB (model %d MiB, KV cache and JVM), %d MiB with a 20%%"
                + " margin; %d MiB available: %s.",
            need / MIB,
            modelBytes / MIB,
            withMargin / MIB,
            availableBytes / MIB,
            fits ? "side by side" : "stop the old model first");
    return new Decision(fits, need, availableBytes, reason);
  }

  /**
   * KV cache estimate without reading the model's shape: an f16 cache for a Llama-3.2-1B-shaped
   * model costs 32 KiB per token of context (16 layers x 2 x 8 KV heads x 64 x 2 bytes); scale it
   * with the model size relative to that model's Q4_0 file (about 700 MiB), never below the 1B
   * figure. Over-estimating only costs a stop-first swap where side by side would have fitted.
   */
  static long kvEstimate(long modelBytes, ModelSpec spec) {
    double scale = Math.max(1.0, modelBytes / (700.0 * MIB));
    return (long) (32 * 1024 * scale * spec.contextSize());
  }

  /** {@code MemAvailable} in bytes, or -1 if unknown. */
  static long availableBytes(Path meminfo) {
    try {
      List<String> lines = Files.readAllLines(meminfo);
      for (String line : lines) {
        if (line.startsWith("MemAvailable:")) {
          String[] parts = line.trim().split("\\s+");
          return Long.parseLong(parts[1]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  private static long fileSize(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }
}
