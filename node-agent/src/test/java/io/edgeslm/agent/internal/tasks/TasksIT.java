package io.edgeslm.agent.internal.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.update.TestBundles;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.SchedulerConfig;
import io.edgeslm.inference.TokenListener;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.ReportStatus;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Source;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Report and Q&A tasks with a real model behind the scheduler. */
class TasksIT {
  static final ModelRef MODEL = ModelRef.of("edgeslm-tiny", 1, "sha256:" + "ab".repeat(32));
  static final Instant NOW = RuleTasksTest.NOW;
  static Scheduler scheduler;

  @BeforeAll
  static void open() throws Exception {
    scheduler =
        Scheduler.open(
            EngineConfig.WorkerBackend.defaults()
                .withRestartBackoff(Duration.ofMillis(200), Duration.ofSeconds(2), 10)
                .withWorkDirectoryBase(Path.of("/tmp")),
            ModelSpec.of(TestBundles.tinyModel(42), 2, 4096),
            new SchedulerConfig(8, 2048, Duration.ofSeconds(120), Duration.ofMinutes(5)));
  }

  @AfterAll
  static void close() {
    scheduler.close();
  }

  static List<SensorWindow> windows() {
    return List.of(
        new SensorWindow(
            "press3.oil_temp",
            "°C",
            new NormalRange(40, 80),
            0.5,
            List.of(
                new SensorSample(NOW.minusSeconds(60), 70),
                new SensorSample(NOW.minusSeconds(30), 71),
                new SensorSample(NOW.minusSeconds(1), 95))),
        new SensorWindow(
            "line1.speed",
            "m/s",
            new NormalRange(0.5, 2),
            null,
            List.of(new SensorSample(NOW.minusSeconds(30), 1.2))));
  }

  @Test
  void report_phrasedByTheModel_underGrammar_validatesAgainstThePublishedSchema() throws Exception {
    TaskOutcome<SensorReport> out =
        SensorReportTask.withModel(
                scheduler,
                MODEL,
                ReportRules.defaults(),
                TaskLimits.reportDefaults().withNPredict(1024))
            .run(windows(), NOW);

    assertThat(out.fallbackReason()).isEmpty();
    SensorReport r = out.value();
    assertThat(r.provenance().source()).isEqualTo(Source.MODEL);
    assertThat(r.provenance().model()).isEqualTo(MODEL);
    assertThat(r.provenance().fallback()).isFalse();
    assertThat(r.status()).isEqualTo(ReportStatus.CRITICAL);
    assertThat(r.anomalies()).extracting(a -> a.rule()).containsExactly("max", "rate");
    SensorReportTask.publishedSchema().validate(Json.mapper().valueToTree(r.content()));
  }

  @Test
  void report_truncatedModelOutput_fallsBackToRules_andIsMarked() {
    TaskOutcome<SensorReport> out =
        SensorReportTask.withModel(
                scheduler,
                MODEL,
                ReportRules.defaults(),
                TaskLimits.reportDefaults().withNPredict(5))
            .run(windows(), NOW);

    assertThat(out.fallbackReason())
        .hasValueSatisfying(
            r ->
                assertThat(r).startsWith("InvalidOutputException: Model output is not valid JSON"));
    SensorReport r = out.value();
    assertThat(r.provenance().source()).isEqualTo(Source.RULES);
    assertThat(r.provenance().fallback()).isTrue();
    assertThat(r.summary()).startsWith("2 anomalies on 1 of 2 sensors: press3.oil_temp 95 °C");
  }

  @Test
  void qa_withModel_streamsAndCitesTheSensorTheQuestionNames() throws Exception {
    List<String> pieces = new CopyOnWriteArrayList<>();
    TaskOutcome<Answer> out =
        OperatorQaTask.withModel(
                scheduler,
                MODEL,
                TaskLimits.qaDefaults().withNPredict(40).withSampling(0.8, 1),
                Clock.systemUTC())
            .answer(
                "q7",
                "What is the oil temperature on press 3?",
                RuleTasksTest.snapshot(),
                "Press 3 was serviced last week.",
                pieces::add);

    assertThat(out.fallbackReason()).isEmpty();
    Answer a = out.value();
    assertThat(a.source()).isEqualTo(Source.MODEL);
    assertThat(a.id()).isEqualTo("q7");
    assertThat(a.answer()).isEqualTo(OperatorQaTask.clean(String.join("", pieces)));
    assertThat(a.sensors()).extracting(c -> c.sensor()).containsExactly("press3.oil_temp");
    assertThat(a.timings().tokens()).isBetween(1, 40);
    assertThat(a.timings().firstTokenMs()).isNotNull();
  }

  @Test
  void qa_contextBudget_limitsTheSensorsOffered() throws Exception {
    List<SensorState> many = new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      many.add(
          new SensorState(
              "tank" + i + ".level",
              List.of(),
              50 + i,
              "%",
              new NormalRange(10, 90),
              Instant.now().minusSeconds(i)));
    }
    TaskOutcome<Answer> out =
        OperatorQaTask.withModel(
                scheduler,
                MODEL,
                TaskLimits.qaDefaults().withNPredict(8).withContextTokens(120).withSampling(0.8, 1),
                Clock.systemUTC())
            .answer(null, "Is everything fine?", many, null, TokenListener.NONE);

    assertThat(out.value().sensors()).isNotEmpty().hasSizeLessThan(40);

    // A budget that holds them all: every sensor is offered (and cited), in one count.
    TaskOutcome<Answer> all =
        OperatorQaTask.withModel(
                scheduler,
                MODEL,
                TaskLimits.qaDefaults()
                    .withNPredict(8)
                    .withContextTokens(4096)
                    .withSampling(0.8, 1),
                Clock.systemUTC())
            .answer(null, "Is everything fine?", many, null, TokenListener.NONE);
    assertThat(all.fallbackReason()).isEmpty();
    assertThat(all.value().sensors()).hasSize(40);
  }
}
