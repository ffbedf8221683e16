package io.edgeslm.agent.internal.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.update.TestBundles;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.SchedulerConfig;
import io.edgeslm.inference.TokenListener;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Source;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Operator Q&amp;A on the llama-server engine (the pinned llama.cpp that
 * scripts/ensure-llama-server.sh builds): the second question on unchanged sensors, asked 20 s
 * later, is evaluated from the engine's prompt cache up to its own last lines. Read from the
 * server's own counter of evaluated prompt tokens (its /metrics, {@code
 * llamacpp:prompt_tokens_total}, which leaves out tokens taken from the cache), so the test counts
 * work, not time.
 */
class QaPromptCacheIT {
  static final ModelRef MODEL = ModelRef.of("edgeslm-tiny", 1, "sha256:" + "ab".repeat(32));
  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  static final String PROCESSED = "llamacpp:prompt_tokens_total";

  /** A clock the test moves. */
  static final class SetClock extends Clock {
    volatile Instant now = T0;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /** Twenty sensors, as the Q&amp;A benchmark has them: five kinds on four lines. */
  static List<SensorState> twentySensors() {
    String[] kinds = {"oil_temp", "pressure", "motor_current", "vibration", "flow"};
    String[] units = {"°C", "bar", "A", "mm/s", "l/min"};
    List<SensorState> out = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      out.add(
          new SensorState(
              "line" + (i / 5 + 1) + "_" + kinds[i % 5],
              List.of("Line " + (i / 5 + 1) + " " + kinds[i % 5].replace('_', ' ')),
              40 + i,
              units[i % 5],
              new NormalRange(10, 90),
              T0.minusMillis(500 - i)));
    }
    return out;
  }

  @Test
  void nextQuestion_onUnchangedSensors_twentySecondsLater_evaluatesOnlyItsOwnLines()
      throws Exception {
    SetClock clock = new SetClock();
    try (Scheduler scheduler =
        Scheduler.open(
            EngineConfig.LlamaServerBackend.of(llamaServerBinary())
                .withRestartBackoff(Duration.ofMillis(200), Duration.ofSeconds(2), 10)
                .withWorkDirectoryBase(Path.of("/tmp")),
            ModelSpec.of(TestBundles.tinyModel(42), 2, 4096),
            new SchedulerConfig(8, 2048, Duration.ofSeconds(120), Duration.ofMinutes(5)))) {
      OperatorQaTask qa =
          OperatorQaTask.withModel(
              scheduler,
              MODEL,
              TaskLimits.qaDefaults().withNPredict(8).withContextTokens(4096).withSampling(0.8, 1),
              clock);
      List<SensorState> sensors = twentySensors();

      double before = processed(scheduler);
      clock.now = T0.plusSeconds(1);
      TaskOutcome<Answer> first =
          qa.answer(
              "q1", "Is anything out of range on the plant?", sensors, null, TokenListener.NONE);
      double afterFirst = processed(scheduler);
      clock.now = T0.plusSeconds(21);
      String next = "Which sensor reads highest right now?";
      TaskOutcome<Answer> second = qa.answer("q2", next, sensors, null, TokenListener.NONE);
      double afterSecond = processed(scheduler);

      assertThat(first.fallbackReason()).isEmpty();
      assertThat(second.fallbackReason()).isEmpty();
      assertThat(second.value().source()).isEqualTo(Source.MODEL);
      assertThat(second.value().sensors()).hasSize(20);
      // What only the second question has: the time now and the question (the template's end of
      // turn and generation prompt are a few tokens more).
      int ownLines =
          scheduler
              .engine()
              .countPromptTokens(
                  GenerationRequest.ofPrompt("Now: 2026-12-01 10:00:21 UTC\nQuestion: " + next, 1));
      double firstCost = afterFirst - before;
      double nextCost = afterSecond - afterFirst;
      assertThat(firstCost).as("prompt tokens evaluated for the first question").isGreaterThan(200);
      assertThat(nextCost)
          .as(
              "prompt tokens evaluated for the next question (first: %.0f, own lines: %d)",
              firstCost, ownLines)
          .isLessThanOrEqualTo(ownLines + 8);
    }
  }

  /**
   * The server's count of evaluated prompt tokens. The engine re-reads /metrics when its copy is
   * older than 5 s; the wait makes sure this read is fresh.
   */
  static double processed(Scheduler s) throws InterruptedException {
    Thread.sleep(5_500);
    Double v = s.engine().nativeMetrics().get(PROCESSED);
    assertThat(v).as("llama-server metric %s", PROCESSED).isNotNull();
    return v;
  }

  /**
   * The llama-server to test with: system property {@code edgeslm.llama-server}, else {@code
   * EDGESLM_LLAMA_SERVER}, else the build cache's {@code current} entry (as the inference tests
   * find it).
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
    assertThat(Files.isExecutable(p))
        .as(
            "llama-server at %s (build it with scripts/ensure-llama-server.sh, or set"
                + " EDGESLM_LLAMA_SERVER)",
            p)
        .isTrue();
    return p;
  }
}
