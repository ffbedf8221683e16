package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each engine (the bundled worker, llama-server) against real llama.cpp on the test kit's tiny
 * synthetic model.
 */
@ParameterizedClass
@EnumSource(Backend.class)
class EngineIT {
  static InferenceEngine engine;
  @Parameter Backend backend;

  @BeforeParameterizedClassInvocation
  static void open(Backend backend) throws Exception {
    engine =
        InferenceEngines.open(
            backend.config(), ModelSpec.of(TestModels.tiny(), 2, 4096).withParallelSlots(2));
  }

  @AfterParameterizedClassInvocation
  static void close() {
    if (engine != null) {
      engine.close();
    }
  }

  @Test
  void generate_streamsTokensInOrder_andResultConcatenatesThem() throws Exception {
    List<String> pieces = new CopyOnWriteArrayList<>();
    GenerationResult r =
        engine.generate(GenerationRequest.ofPrompt("The oil temperature", 16), pieces::add).await();

    assertThat(r.generatedTokens()).isBetween(1, 16);
    assertThat(String.join("", pieces)).isEqualTo(r.text());
    assertThat(r.promptTokens()).isPositive();
    assertThat(r.timings().timeToFirstToken()).isPositive();
    assertThat(engine.health().state()).isEqualTo(EngineHealth.State.READY);
    assertThat(Backend.enginePid(engine)).isPositive().isNotEqualTo(ProcessHandle.current().pid());
  }

  @Test
  void generate_greedyWithSameSeed_isReproducible() throws Exception {
    GenerationRequest req = GenerationRequest.ofPrompt("Pump 2 pressure", 12);
    String a = engine.generate(req, TokenListener.NONE).await().text();
    String b = engine.generate(req, TokenListener.NONE).await().text();
    assertThat(a).isEqualTo(b);
  }

  @Test
  void generate_nPredict_boundsTheOutput_andReportsLength() throws Exception {
    GenerationResult r =
        engine.generate(GenerationRequest.ofPrompt("Count", 7), TokenListener.NONE).await();
    assertThat(r.generatedTokens()).isLessThanOrEqualTo(7);
    if (r.generatedTokens() == 7) {
      assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    }
  }

  @Test
  void cancel_midStream_endsWithCancelled_andTheSlotServesTheNextRequest() throws Exception {
    CountDownLatch firstTokens = new CountDownLatch(3);
    Generation g =
        engine.generate(
            GenerationRequest.ofPrompt("Long story", 3000), p -> firstTokens.countDown());
    assertThat(firstTokens.await(60, TimeUnit.SECONDS)).isTrue();
    g.cancel();

    GenerationResult r = g.result().get(60, TimeUnit.SECONDS);
    assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
    assertThat(r.generatedTokens()).isBetween(3, 2999);

    GenerationResult next =
        engine.generate(GenerationRequest.ofPrompt("Next", 4), TokenListener.NONE).await();
    assertThat(next.finishReason()).isNotEqualTo(FinishReason.CANCELLED);
  }

  @Test
  void chatRequest_isRenderedWithTheModelsTemplate_andCountedAfterIt() throws Exception {
    GenerationRequest chat =
        GenerationRequest.ofChat(
            List.of(ChatMessage.system("Be brief."), ChatMessage.user("Status of press 3?")), 8);
    int raw =
        engine.countPromptTokens(GenerationRequest.ofPrompt("Be brief.Status of press 3?", 1));
    int templated = engine.countPromptTokens(chat);

    assertThat(templated).isGreaterThan(raw);
    GenerationResult r = engine.generate(chat, TokenListener.NONE).await();
    assertThat(r.promptTokens()).isEqualTo(templated);
  }

  @Test
  void countWithin_isNeverBelowTheCount_andFitsTheLimitExactlyWhenTheCountDoes() throws Exception {
    GenerationRequest chat =
        GenerationRequest.ofChat(
            List.of(ChatMessage.system("Be brief."), ChatMessage.user("Status of press 3?")), 8);
    GenerationRequest prompt = GenerationRequest.ofPrompt("Press 3 oil temperature is 71.2 C.", 8);
    for (GenerationRequest r : List.of(chat, prompt)) {
      int exact = engine.countPromptTokens(r);
      assertThat(engine.countPromptTokensWithin(r, 100_000)).isBetween(exact, 100_000);
      assertThat(engine.countPromptTokensWithin(r, exact)).isEqualTo(exact);
      assertThat(engine.countPromptTokensWithin(r, exact - 1)).isEqualTo(exact);
    }
  }

  @Test
  void chatRequest_onLlamaServer_reportsTheMeanProbabilityOfItsTokens_theWorkerNone()
      throws Exception {
    GenerationRequest chat =
        GenerationRequest.ofChat(List.of(ChatMessage.user("Status of press 3?")), 8);

    GenerationResult r = engine.generate(chat, TokenListener.NONE).await();

    if (backend == Backend.LLAMA_SERVER) {
      // The node's confidence measure for escalation: present, and a probability.
      assertThat(r.meanTokenProbability()).isPresent();
      assertThat(r.meanTokenProbability().getAsDouble()).isBetween(0.0, 1.0);
    } else {
      assertThat(r.meanTokenProbability()).isEmpty();
    }
  }

  @Test
  void jsonSchema_constrainsSampling_soOutputParsesAndValidates() throws Exception {
    OutputSchema schema = OutputSchema.of(OutputSchemaTest.SCHEMA);
    GenerationResult r =
        engine
            .generate(
                GenerationRequest.ofPrompt("Report:", 200).withJsonSchema(schema.json()),
                TokenListener.NONE)
            .await();

    var node = schema.parseAndValidate(r.text().strip());
    assertThat(node.path("status").asText()).isIn("ok", "warning", "critical");
  }

  @Test
  void grammar_constrainsSampling() throws Exception {
    GenerationResult r =
        engine
            .generate(
                GenerationRequest.ofPrompt("Answer:", 8).withGrammar("root ::= (\"yes\" | \"no\")"),
                TokenListener.NONE)
            .await();
    assertThat(r.text()).isIn("yes", "no");
  }

  @Test
  void unparsableGrammar_doesNotHurtTheEngine_soJavaSideValidationMustDecide() throws Exception {
    GenerationRequest bad = GenerationRequest.ofPrompt("x", 4).withGrammar("root ::= ( unclosed");
    if (backend == Backend.WORKER) {
      // llama.cpp b4916 logs an unparsable grammar and samples without it: the reason why every
      // structured result is validated in Java before it is used.
      assertThat(engine.generate(bad, TokenListener.NONE).await().generatedTokens()).isPositive();
    } else {
      // A current llama-server refuses it with 400.
      assertThatThrownBy(() -> engine.generate(bad, TokenListener.NONE).await())
          .isInstanceOf(RequestRejectedException.class)
          .hasMessageStartingWith("The inference server refused the request with 400");
    }
    assertThat(engine.generate(GenerationRequest.ofPrompt("y", 2), TokenListener.NONE).await())
        .isNotNull();
    assertThat(engine.health().state()).isEqualTo(EngineHealth.State.READY);
  }

  @Test
  void open_notAGgufFile_failsWithModelLoadException(@TempDir Path dir) throws Exception {
    Path bogus = Files.writeString(dir.resolve("model.gguf"), "not a model at all");
    assertThatThrownBy(() -> InferenceEngines.open(backend.config(), ModelSpec.of(bogus, 1, 512)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("does not start with the GGUF magic");
  }

  @Test
  void open_truncatedGguf_failsWithModelLoadException_fromTheEngine(@TempDir Path dir)
      throws Exception {
    byte[] whole = Files.readAllBytes(TestModels.tiny());
    Path cut = dir.resolve("cut.gguf");
    Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
    long before = ProcessHandle.current().descendants().count();

    assertThatThrownBy(() -> InferenceEngines.open(backend.config(), ModelSpec.of(cut, 1, 512)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(
            backend == Backend.WORKER ? "llama.cpp could not load" : "llama-server could not load");
    assertThat(ProcessHandle.current().descendants().count()).isEqualTo(before);
  }
}
