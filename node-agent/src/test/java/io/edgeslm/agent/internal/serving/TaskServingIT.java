package io.edgeslm.agent.internal.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.qa.Answerer;
import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.agent.internal.sensor.SensorStore;
import io.edgeslm.agent.internal.tasks.TaskLimits;
import io.edgeslm.agent.update.TestBundles;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.SwapMode;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.Source;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving stack as the update engine drives it, on real llama.cpp workers and synthetic models:
 * an activation swaps the model behind the one scheduler and the next answer names it; when no
 * verified model is left, the operator's plain GGUF serves again.
 */
class TaskServingIT {

  @TempDir Path tmp;

  @Test
  void activate_relabelsAnswers_andUnload_returnsToTheConfiguredFile() throws Exception {
    Path plain = TestBundles.tinyModel(11);
    Path next = TestBundles.tinyModel(12);
    ModelRef nextRef = ModelRef.of("plant-assistant", 7, "sha256:" + "a".repeat(64));
    EngineConfig engine =
        EngineConfig.WorkerBackend.defaults()
            .withWorkDirectoryBase(Files.createDirectories(tmp.resolve("workers")));
    TaskServing.Settings settings =
        new TaskServing.Settings(
            2,
            1024,
            // Fixed sampling so the synthetic models' answers are repeatable and not empty.
            new TaskLimits(40, Duration.ofSeconds(60), 512, 0.8, 1),
            TaskLimits.reportDefaults(),
            SwapMode.SIDE_BY_SIDE,
            engine);
    SensorStore sensors = new SensorStore(List.of());
    AtomicInteger changes = new AtomicInteger();
    TaskServing.ModelPlan plan = new TaskServing.ModelPlan(plain, Optional.of("plain"), 3);
    try (TaskServing serving =
        new TaskServing(
            Clock.systemUTC(),
            () -> SensorSnapshot.of(sensors, Instant.now()),
            settings,
            Optional.of(plan),
            Optional.empty(),
            Optional.empty(),
            changes::incrementAndGet)) {
      await().atMost(Duration.ofMinutes(2)).until(() -> serving.model().isPresent());
      ModelRef plainRef = serving.model().orElseThrow();
      assertThat(plainRef.name()).isEqualTo("plain");
      assertThat(plainRef.digest()).isEqualTo("sha256:" + ModelIdentity.sha256(plain));
      assertThat(serving.notReadyReason()).isEmpty();
      assertThat(changes).hasValue(1);

      serving.activate(nextRef, next, Optional.empty());

      assertThat(serving.model()).contains(nextRef);
      assertThat(changes).hasValue(2);
      Answerer.Outcome answer =
          serving
              .answerer()
              .answer(
                  Question.of("Is the pump running?"), Instant.now().plusSeconds(60), piece -> {});
      assertThat(answer.source()).isEqualTo(Source.MODEL);
      assertThat(answer.model()).contains(nextRef);
      assertThat(serving.sample().ready()).isTrue();

      // No verified model left: the operator's file serves again, not the rules.
      serving.unload();

      assertThat(serving.model()).contains(plainRef);
      assertThat(serving.source()).isEqualTo(Source.MODEL);
      assertThat(changes).hasValue(3);
    }
  }

  @Test
  void awaitingTheStoresModel_notReady_andWhenItCannotServe_theConfiguredFileDoes()
      throws Exception {
    Path plain = TestBundles.tinyModel(11);
    TaskServing.Settings settings =
        new TaskServing.Settings(
            2,
            1024,
            TaskLimits.qaDefaults(),
            TaskLimits.reportDefaults(),
            SwapMode.AUTO,
            EngineConfig.WorkerBackend.defaults()
                .withWorkDirectoryBase(Files.createDirectories(tmp.resolve("workers"))));
    SensorStore sensors = new SensorStore(List.of());
    try (TaskServing serving =
        new TaskServing(
            Clock.systemUTC(),
            () -> SensorSnapshot.of(sensors, Instant.now()),
            settings,
            Optional.empty(),
            Optional.of("model loading: v2 from the model store"),
            Optional.of(new TaskServing.ModelPlan(plain, Optional.of("plain"), 3)),
            () -> {})) {
      assertThat(serving.ready()).isFalse();
      assertThat(serving.notReadyReason()).contains("model loading: v2 from the model store");
      assertThat(serving.source()).isEqualTo(Source.RULES);

      // The update engine found the store's model unusable and nothing older: unload.
      serving.unload();

      assertThat(serving.model().map(ModelRef::name)).contains("plain");
      assertThat(serving.ready()).isTrue();
    }
  }
}
