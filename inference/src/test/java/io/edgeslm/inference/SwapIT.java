package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Model swaps on each engine: side by side, stop first, activation gate, and no leaks over many
 * swaps.
 */
@ParameterizedClass
@EnumSource(Backend.class)
class SwapIT {
  @Parameter Backend backend;

  /** Host RSS may move this much between swap 1 and swap 20 (heap sizing, JIT, GC timing). */
  static final long RSS_BOUND_BYTES = 64L * 1024 * 1024;

  static SchedulerConfig config() {
    return new SchedulerConfig(16, 256, Duration.ofSeconds(60), Duration.ofSeconds(60));
  }

  @AfterParameterizedClassInvocation
  static void removeBase() throws IOException {
    Files.createDirectories(BASE);
    try (Stream<Path> s = Files.list(BASE)) {
      assertThat(s.count()).as("engine directories left in %s", BASE).isZero();
    }
    Files.deleteIfExists(BASE);
  }

  static long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new AssertionError("No VmRSS in /proc/self/status");
  }

  /** A work directory base of this test JVM's own, so other builds' workers do not count. */
  static final Path BASE = Path.of("/tmp", "edgeslm-swapit-" + ProcessHandle.current().pid());

  EngineConfig worker() {
    return switch (backend.config()) {
      case EngineConfig.WorkerBackend w -> w.withWorkDirectoryBase(BASE);
      case EngineConfig.LlamaServerBackend l -> l.withWorkDirectoryBase(BASE);
      case EngineConfig.HttpBackend h -> h;
    };
  }

  static long workerDirectories() throws IOException {
    Files.createDirectories(BASE);
    try (Stream<Path> s = Files.list(BASE)) {
      return s.filter(p -> p.getFileName().toString().startsWith("edgeslm-")).count();
    }
  }

  /** The guard shell, llama-server, and the guard's watcher (a subshell running cat). */
  static long processesPerLlamaServer() {
    return 4;
  }

  /** RSS of every process this JVM started (the engine's processes), summed. */
  static long descendantsRss() {
    return ProcessHandle.current()
        .descendants()
        .mapToLong(
            h -> {
              try {
                for (String l : Files.readAllLines(Path.of("/proc", h.pid() + "", "status"))) {
                  if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                  }
                }
              } catch (IOException | RuntimeException gone) {
                // Exited meanwhile.
              }
              return 0;
            })
        .sum();
  }

  static long settledRss() throws Exception {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return rssBytes();
  }

  @Test
  void twentySwaps_leaveHostRssAndProcessCountWhereTheyWereAfterTheFirst() throws Exception {
    Path a = TestModels.tiny(42);
    Path b = TestModels.tiny(43);
    try (Scheduler s = Scheduler.open(worker(), ModelSpec.of(a, 2, 1024), config())) {
      SwapReport first =
          s.swapModel(worker(), ModelSpec.of(b, 2, 1024), SwapMode.SIDE_BY_SIDE, null);
      assertThat(first.mode()).isEqualTo(SwapMode.SIDE_BY_SIDE);
      long rss1 = settledRss();
      long procs1 = ProcessHandle.current().descendants().count();
      long dirs1 = workerDirectories();
      long childRss1 = descendantsRss();

      for (int i = 2; i <= 20; i++) {
        Path next = i % 2 == 0 ? a : b;
        SwapMode mode = i % 4 == 0 ? SwapMode.STOP_FIRST : SwapMode.SIDE_BY_SIDE;
        s.swapModel(worker(), ModelSpec.of(next, 2, 1024), mode, null);
        GenerationResult r =
            s.submit(GenerationRequest.ofPrompt("swap " + i, 3), Priority.BATCH, null, null)
                .await();
        assertThat(r.generatedTokens()).isPositive();
      }
      long rss20 = settledRss();
      long procs20 = ProcessHandle.current().descendants().count();
      long childRss20 = descendantsRss();
      System.out.printf(
          "swap leak check (%s): host RSS after swap 1 = %d MiB, after swap 20 = %d MiB; engine"
              + " processes' RSS %d -> %d MiB; processes %d -> %d; engine dirs %d -> %d%n",
          backend,
          rss1 >> 20,
          rss20 >> 20,
          childRss1 >> 20,
          childRss20 >> 20,
          procs1,
          procs20,
          dirs1,
          workerDirectories());

      // The worker is one JVM; llama-server runs under its guard shell with one helper each.
      long perEngine = backend == Backend.WORKER ? 1 : processesPerLlamaServer();
      assertThat(procs20).isEqualTo(procs1).isEqualTo(perEngine);
      if (backend == Backend.LLAMA_SERVER) {
        assertThat(childRss20 - childRss1).isLessThanOrEqualTo(RSS_BOUND_BYTES);
      }
      assertThat(workerDirectories()).isEqualTo(dirs1);
      assertThat(rss20 - rss1).isLessThanOrEqualTo(RSS_BOUND_BYTES);
      assertThat(s.metrics().modelSwaps()).isEqualTo(20);
    }
  }

  @Test
  void failingActivationCheck_keepsTheOldModelServing() throws Exception {
    try (Scheduler s =
        Scheduler.open(worker(), ModelSpec.of(TestModels.tiny(42), 2, 1024), config())) {
      long oldPid = Backend.enginePid(s.engine());
      ActivationCheck impossible =
          ActivationCheck.of(
              List.of(
                  new EvaluationCase(
                      "must-say-hello",
                      GenerationRequest.ofPrompt("Say hello", 4),
                      false,
                      List.of("certainly not produced by noise 0xC0FFEE"),
                      java.util.Optional.empty(),
                      List.of(),
                      0)),
              1.0);
      long before = ProcessHandle.current().descendants().count();

      assertThatThrownBy(
              () ->
                  s.swapModel(
                      worker(),
                      ModelSpec.of(TestModels.tiny(43), 2, 1024),
                      SwapMode.SIDE_BY_SIDE,
                      impossible))
          .isInstanceOf(ActivationFailedException.class)
          .hasMessageStartingWith(
              "The model scored 0.00 (0 of 1 cases) in its activation check, below the required"
                  + " 1.00; it does not take traffic.");

      assertThat(Backend.enginePid(s.engine())).isEqualTo(oldPid);
      assertThat(ProcessHandle.current().descendants().count()).isEqualTo(before);
      assertThat(
              s.submit(GenerationRequest.ofPrompt("still here", 2), Priority.BATCH, null, null)
                  .await())
          .isNotNull();
    }
  }

  @Test
  void stopFirst_failingNewModel_reloadsThePreviousOne() throws Exception {
    Path broken = Files.createTempFile("edgeslm-broken-", ".gguf");
    try (Scheduler s =
        Scheduler.open(worker(), ModelSpec.of(TestModels.tiny(42), 2, 1024), config())) {
      byte[] head = Files.readAllBytes(TestModels.tiny(42));
      Files.write(broken, java.util.Arrays.copyOf(head, 4096));

      assertThatThrownBy(
              () -> s.swapModel(worker(), ModelSpec.of(broken, 2, 1024), SwapMode.STOP_FIRST, null))
          .isInstanceOf(ModelLoadException.class);

      assertThat(s.engine().info().model()).isEqualTo(TestModels.tiny(42).getFileName().toString());
      assertThat(
              s.submit(GenerationRequest.ofPrompt("back", 2), Priority.BATCH, null, null).await())
          .isNotNull();
    } finally {
      Files.deleteIfExists(broken);
    }
  }

  @Test
  void auto_onThisMachine_choosesSideBySide_andSaysWhy() throws Exception {
    try (Scheduler s =
        Scheduler.open(worker(), ModelSpec.of(TestModels.tiny(42), 2, 1024), config())) {
      SwapReport r =
          s.swapModel(worker(), ModelSpec.of(TestModels.tiny(43), 2, 1024), SwapMode.AUTO, null);
      assertThat(r.mode()).isEqualTo(SwapMode.SIDE_BY_SIDE);
      assertThat(r.reason()).contains("MiB available: side by side.");
    }
  }
}
