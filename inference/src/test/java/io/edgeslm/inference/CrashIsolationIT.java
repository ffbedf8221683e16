package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Killing or freezing the engine's process (the worker JVM, or llama-server) never takes the host
 * down, and service comes back by itself.
 */
@ParameterizedClass
@EnumSource(Backend.class)
class CrashIsolationIT {
  @Parameter Backend backend;

  /** Room for generations far longer than any test step, so a kill always lands mid-stream. */
  static final ModelSpec LONG = ModelSpec.of(TestModels.tiny(), 2, 16384);

  static void signal(long pid, String sig) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
    assertThat(p.waitFor()).as("kill -%s %d", sig, pid).isZero();
  }

  static void awaitReady(InferenceEngine e, long notPid) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!(e.health().isReady() && Backend.enginePid(e) != notPid)) {
      if (System.nanoTime() > until) {
        throw new AssertionError("Engine did not come back: " + e.health());
      }
      Thread.sleep(50);
    }
  }

  @org.junit.jupiter.api.Test
  void sigkillMidRequest_failsThatRequestClearly_thenRestarts_andTheNextRequestSucceeds()
      throws Exception {
    try (InferenceEngine engine = InferenceEngines.open(backend.config(), LONG)) {
      long pid = Backend.enginePid(engine);
      CountDownLatch streaming = new CountDownLatch(2);
      Generation g =
          engine.generate(
              GenerationRequest.ofPrompt("Keep going", 16000), t -> streaming.countDown());
      assertThat(streaming.await(60, TimeUnit.SECONDS)).isTrue();

      signal(pid, "KILL");

      assertThatThrownBy(g::await)
          .isInstanceOf(EngineUnavailableException.class)
          .hasMessageStartingWith(backend.diedPrefix(pid))
          .hasMessageContaining("killed by signal 9")
          .hasMessageContaining("It restarts automatically; retry the request.");
      awaitReady(engine, pid);

      GenerationResult next =
          engine
              .generate(GenerationRequest.ofPrompt("After restart", 5), TokenListener.NONE)
              .await();
      assertThat(next.generatedTokens()).isPositive();
      assertThat(engine.stats().workerRestarts()).isEqualTo(1);
      assertThat(engine.stats().requestsFailed()).isEqualTo(1);
      awaitGone(pid);
    }
  }

  @org.junit.jupiter.api.Test
  void frozenWorker_isDetectedByHeartbeat_killed_andReplaced() throws Exception {
    EngineConfig cfg = backend.withLiveness(Duration.ofMillis(200), Duration.ofMillis(1500));
    try (InferenceEngine engine = InferenceEngines.open(cfg, LONG)) {
      long pid = Backend.enginePid(engine);
      CountDownLatch streaming = new CountDownLatch(1);
      Generation g =
          engine.generate(
              GenerationRequest.ofPrompt("Keep going", 16000), t -> streaming.countDown());
      assertThat(streaming.await(60, TimeUnit.SECONDS)).isTrue();

      signal(pid, "STOP");

      assertThatThrownBy(g::await)
          .isInstanceOf(EngineUnavailableException.class)
          .hasMessageStartingWith(backend.processName(pid) + " hung (")
          .hasMessageContaining("and was killed");
      awaitReady(engine, pid);
      assertThat(
              engine.generate(GenerationRequest.ofPrompt("again", 3), TokenListener.NONE).await())
          .isNotNull();
      awaitGone(pid);
    }
  }

  @org.junit.jupiter.api.Test
  void tokenStall_beyondTokenTimeout_countsAsHang_beforeTheHeartbeatNotices() throws Exception {
    // The heartbeat timeout is far away, so only the per-request watchdog can fire.
    EngineConfig cfg =
        backend.withHangs(
            Duration.ofSeconds(1),
            Duration.ofSeconds(60),
            Duration.ofSeconds(60),
            Duration.ofSeconds(1));
    try (InferenceEngine engine = InferenceEngines.open(cfg, LONG)) {
      long pid = Backend.enginePid(engine);
      CountDownLatch streaming = new CountDownLatch(1);
      Generation g =
          engine.generate(
              GenerationRequest.ofPrompt("Keep going", 16000), t -> streaming.countDown());
      assertThat(streaming.await(60, TimeUnit.SECONDS)).isTrue();

      signal(pid, "STOP");

      assertThatThrownBy(g::await)
          .isInstanceOf(EngineUnavailableException.class)
          .hasMessageContaining("had no new token for PT1S");
      awaitReady(engine, pid);
    }
  }

  @org.junit.jupiter.api.Test
  void noFirstToken_beyondFirstTokenTimeout_countsAsHang() throws Exception {
    EngineConfig cfg =
        backend.withHangs(
            Duration.ofSeconds(1),
            Duration.ofSeconds(60),
            Duration.ofMillis(500),
            Duration.ofSeconds(30));
    try (InferenceEngine engine = InferenceEngines.open(cfg, LONG)) {
      long pid = Backend.enginePid(engine);
      signal(pid, "STOP");

      Generation g = engine.generate(GenerationRequest.ofPrompt("x", 4), TokenListener.NONE);

      assertThatThrownBy(g::await)
          .isInstanceOf(EngineUnavailableException.class)
          .hasMessageContaining("had no first token after PT0.5S");
      awaitReady(engine, pid);
    }
  }

  @org.junit.jupiter.api.Test
  void closingTheEngine_endsTheEngineProcess() throws Exception {
    InferenceEngine engine = InferenceEngines.open(backend.config(), LONG);
    long pid = Backend.enginePid(engine);
    engine.close();
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(engine.health().state()).isEqualTo(EngineHealth.State.CLOSED);
    assertThatThrownBy(
            () -> engine.generate(GenerationRequest.ofPrompt("x", 1), TokenListener.NONE))
        .isInstanceOf(EngineUnavailableException.class);
  }

  /**
   * Waits until the killed process is gone. The kill is sent before the engine reports the failure,
   * but the process may still be dying or waiting to be reaped by its parent for a moment; a zombie
   * holds no memory and runs nothing, so it counts as gone. Fails after 30 s: then the engine
   * leaked a live process.
   */
  private static void awaitGone(long pid) throws Exception {
    java.nio.file.Path stat = java.nio.file.Path.of("/proc", Long.toString(pid), "stat");
    for (int i = 0; i < 300; i++) {
      if (ProcessHandle.of(pid).isEmpty()) {
        return;
      }
      try {
        String line = java.nio.file.Files.readString(stat);
        char state = line.charAt(line.lastIndexOf(')') + 2);
        if (state == 'Z' || state == 'X') {
          return;
        }
      } catch (java.io.IOException gone) {
        return;
      }
      Thread.sleep(100);
    }
    assertThat(ProcessHandle.of(pid))
        .as("process %d is still alive 30 s after the kill", pid)
        .isEmpty();
  }
}
