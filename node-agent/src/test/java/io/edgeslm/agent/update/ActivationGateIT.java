package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.update.SchedulerRuntime;
import io.edgeslm.agent.internal.update.UsbSideLoader;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.Priority;
import io.edgeslm.inference.SchedulerConfig;
import io.edgeslm.inference.SwapMode;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.testkit.MqttBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The activation gate on real llama.cpp workers and synthetic models: a signed bundle whose model
 * fails its activation check, and one whose worker cannot load the model, are rolled back
 * automatically; the previous model keeps answering.
 */
class ActivationGateIT {

  /** Constrained output: any model, even a noise one, passes. */
  static final String PASSING =
      """
      {"schemaVersion": 1, "minScore": 1.0, "cases": [
        {"id": "yes-no", "prompt": "Is the pump running? Answer yes or no:", "nPredict": 4,
         "grammar": "root ::= (\\"yes\\" | \\"no\\")", "expect": {"maxChars": 3}}]}
      """;

  /** A noise model cannot repeat a value: this check fails. */
  static final String FAILING =
      """
      {"schemaVersion": 1, "minScore": 1.0, "cases": [
        {"id": "mentions-value", "prompt": "Press 3 oil temperature is 71.2 C. Repeat the value:",
         "nPredict": 8, "expect": {"contains": ["71.2"]}}]}
      """;

  static MqttBroker broker;
  @TempDir Path tmp;

  @BeforeAll
  static void broker() throws Exception {
    broker = MqttBroker.forTests();
  }

  @AfterAll
  static void closeBroker() {
    broker.close();
  }

  @Test
  void failingCheck_andUnloadableModel_areRolledBack_andThePreviousModelKeepsServing()
      throws Exception {
    TestBundles b = new TestBundles();
    String nodeId = "gw-" + UUID.randomUUID().toString().substring(0, 8);
    EngineConfig.WorkerBackend worker =
        EngineConfig.WorkerBackend.defaults()
            .withRestartBackoff(Duration.ofMillis(200), Duration.ofSeconds(2), 3)
            .withWorkDirectoryBase(Files.createDirectories(tmp.resolve("workers")));
    try (SchedulerRuntime runtime =
            new SchedulerRuntime(
                worker, SchedulerConfig.defaults(), 2, 1024, SwapMode.SIDE_BY_SIDE);
        TestNode node =
            new TestNode(
                broker.url(),
                nodeId,
                tmp.resolve("node"),
                b.trust(),
                runtime,
                MqttUpdateIT.fastSoak())) {
      Path stick = Files.createDirectories(tmp.resolve("stick"));
      UsbSideLoader usb =
          new UsbSideLoader(stick, node.engine, node.store, nodeId, Clock.systemUTC(), 300_000);

      b.bundle(stick.resolve("1-v5"), TestBundles.Spec.version(5).evaluation(PASSING));
      assertThat(usb.scan())
          .singleElement()
          .satisfies(o -> assertThat(o.outcome()).isEqualTo("activated"));
      var v5 = node.store.active().orElseThrow();

      b.bundle(stick.resolve("2-v6"), TestBundles.Spec.version(6).evaluation(FAILING));
      assertThat(usb.scan())
          .singleElement()
          .satisfies(
              o -> {
                // The same code as the MQTT result for the same failure, not the outcome again.
                assertThat(o.outcome()).isEqualTo("rolled_back");
                assertThat(o.reasonCode()).isEqualTo(ReasonCode.ACTIVATION_CHECK_FAILED);
                assertThat(o.reason()).startsWith("The new model failed its activation check: ");
              });
      assertThat(node.store.active().orElseThrow()).isEqualTo(v5);

      b.bundle(stick.resolve("3-v7"), TestBundles.Spec.version(7).withGarbageModel());
      assertThat(usb.scan())
          .singleElement()
          .satisfies(
              o -> {
                assertThat(o.outcome()).isEqualTo("rolled_back");
                assertThat(o.reasonCode()).isEqualTo(ReasonCode.MODEL_LOAD_FAILED);
                assertThat(o.reason()).startsWith("The new model did not start: ");
              });
      assertThat(node.store.active().orElseThrow()).isEqualTo(v5);
      // The stick says the same as the outcome: read back from its result file.
      assertThat(UsbSideLoadIT.resultFile(stick, nodeId))
          .containsExactly(
              Map.entry("1-v5", "activated/-"),
              Map.entry("2-v6", "rolled_back/activation_check_failed"),
              Map.entry("3-v7", "rolled_back/model_load_failed"));

      // The previous model still answers, and the journal says what happened.
      GenerationResult r =
          runtime
              .scheduler()
              .submit(
                  GenerationRequest.ofPrompt("still there?", 3), Priority.INTERACTIVE, null, null)
              .await();
      assertThat(r.generatedTokens()).isPositive();
      assertThat(node.journal.entries())
          .extracting(JournalEntry::event)
          .containsExactly(
              JournalEvent.VERIFIED,
              JournalEvent.ACTIVATED,
              JournalEvent.VERIFIED,
              JournalEvent.ROLLED_BACK,
              JournalEvent.VERIFIED,
              JournalEvent.ROLLED_BACK);
      // The failed models' directories are gone; the version mark stays at 5.
      assertThat(node.store.marks().values())
          .singleElement()
          .satisfies(m -> assertThat(m.version()).isEqualTo(5));
      try (var s = Files.list(node.store.root().resolve("models"))) {
        assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly(v5.digest());
      }
    }
  }
}
