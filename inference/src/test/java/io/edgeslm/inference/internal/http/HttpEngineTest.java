package io.edgeslm.inference.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.EngineUnavailableException;
import io.edgeslm.inference.FinishReason;
import io.edgeslm.inference.Generation;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.InferenceEngine;
import io.edgeslm.inference.InferenceEngines;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.RequestRejectedException;
import io.edgeslm.inference.TokenListener;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP backend against an in-process server speaking the OpenAI streaming format: a stand-in
 * that can return what a real server would not on demand (errors, stalls) and counts the round
 * trips it gets. The same backend runs against a real llama-server in EngineIT and SchedulerIT.
 */
class HttpEngineTest {
  static final ObjectMapper JSON = new ObjectMapper();
  HttpServer server;
  final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
  volatile String mode = "ok";
  final CountDownLatch release = new CountDownLatch(1);
  final java.util.concurrent.atomic.AtomicInteger tokenizeCalls =
      new java.util.concurrent.atomic.AtomicInteger();
  final java.util.concurrent.atomic.AtomicInteger templateCalls =
      new java.util.concurrent.atomic.AtomicInteger();
  InferenceEngine engine;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/v1/models", ex -> reply(ex, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"m\"}]}"));
    server.createContext("/v1/chat/completions", this::completion);
    server.createContext("/v1/completions", this::completion);
    server.createContext(
        "/apply-template",
        ex -> {
          templateCalls.incrementAndGet();
          JsonNode b = JSON.readTree(ex.getRequestBody());
          StringBuilder p = new StringBuilder();
          for (JsonNode m : b.path("messages")) {
            p.append("<|").append(m.path("role").asText()).append("|>\n");
            p.append(m.path("content").asText()).append("<|end|>\n");
          }
          reply(ex, 200, JSON.createObjectNode().put("prompt", p + "<|assistant|>\n").toString());
        });
    server.createContext(
        "/tokenize",
        ex -> {
          tokenizeCalls.incrementAndGet();
          JsonNode b = JSON.readTree(ex.getRequestBody());
          int n = b.path("content").asText().split(" ").length;
          reply(ex, 200, "{\"tokens\":" + JSON.writeValueAsString(new int[n]) + "}");
        });
    server.start();
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (engine != null) {
      engine.close();
    }
    server.stop(0);
  }

  InferenceEngine open(Duration tokenTimeout) throws Exception {
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    EngineConfig.HttpBackend cfg =
        new EngineConfig.HttpBackend(
            base,
            "m",
            Optional.of("secret"),
            Duration.ofSeconds(2),
            Duration.ofSeconds(10),
            tokenTimeout,
            true);
    engine = InferenceEngines.open(cfg, ModelSpec.of(Path.of("/unused.gguf"), 1, 2048));
    return engine;
  }

  static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  void completion(HttpExchange ex) throws IOException {
    JsonNode body = JSON.readTree(ex.getRequestBody());
    bodies.add(body);
    assertThat(ex.getRequestHeaders().getFirst("Authorization")).isEqualTo("Bearer secret");
    switch (mode) {
      case "400" -> reply(ex, 400, "{\"error\":{\"message\":\"bad schema\"}}");
      case "503" -> reply(ex, 503, "{\"error\":{\"message\":\"loading model\"}}");
      default -> stream(ex, body);
    }
  }

  void stream(HttpExchange ex, JsonNode body) throws IOException {
    boolean chat = body.has("messages");
    ex.getResponseHeaders().add("Content-Type", "text/event-stream");
    ex.sendResponseHeaders(200, 0);
    try (OutputStream out = ex.getResponseBody()) {
      String[] pieces = {"Press", " 3", " is", " 71.2", " °C"};
      for (int i = 0; i < pieces.length; i++) {
        // In "logprobs" mode every token comes with its log-probability, ln(0.5) or ln(0.25)
        // alternately, as llama-server and OpenAI send them (choices[0].logprobs.content).
        String logprobs =
            mode.equals("logprobs")
                ? ",\"logprobs\":{\"content\":[{\"token\":"
                    + JSON.writeValueAsString(pieces[i])
                    + ",\"logprob\":"
                    + Math.log(i % 2 == 0 ? 0.5 : 0.25)
                    + "}]}"
                : "";
        String choice =
            chat
                ? "{\"delta\":{\"content\":"
                    + JSON.writeValueAsString(pieces[i])
                    + "}"
                    + logprobs
                    + "}"
                : "{\"text\":" + JSON.writeValueAsString(pieces[i]) + logprobs + "}";
        out.write(("data: {\"choices\":[" + choice + "]}\n\n").getBytes(StandardCharsets.UTF_8));
        out.write(": keep-alive comment\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
        if (i == 1 && (mode.equals("stall") || mode.equals("slow"))) {
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          if (mode.equals("stall")) {
            return;
          }
        }
      }
      String last =
          "data: {\"choices\":[{\"delta\":{},\"text\":\"\",\"finish_reason\":\"length\"}],"
              + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5}}\n\n";
      out.write(last.getBytes(StandardCharsets.UTF_8));
      out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
    } catch (IOException closedByClient) {
      // The engine cancelled or timed out the stream.
    }
  }

  @Test
  void chat_streamsDeltas_andReportsUsageAndLength() throws Exception {
    open(Duration.ofSeconds(10));
    List<String> pieces = new CopyOnWriteArrayList<>();
    GenerationRequest req =
        GenerationRequest.ofChat(List.of(ChatMessage.user("Oil temperature on press 3?")), 5)
            .withJsonSchema("{\"type\":\"object\"}")
            .withStopStrings(List.of("\nQ:"));

    GenerationResult r = engine.generate(req, pieces::add).await();

    assertThat(r.text()).isEqualTo("Press 3 is 71.2 °C");
    assertThat(pieces).containsExactly("Press", " 3", " is", " 71.2", " °C");
    assertThat(r.promptTokens()).isEqualTo(12);
    assertThat(r.generatedTokens()).isEqualTo(5);
    assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    JsonNode sent = bodies.get(0);
    assertThat(sent.path("model").asText()).isEqualTo("m");
    assertThat(sent.path("stream").asBoolean()).isTrue();
    assertThat(sent.path("max_tokens").asInt()).isEqualTo(5);
    assertThat(sent.path("messages").get(0).path("role").asText()).isEqualTo("user");
    assertThat(sent.path("stop").get(0).asText()).isEqualTo("\nQ:");
    assertThat(sent.at("/response_format/type").asText()).isEqualTo("json_schema");
    assertThat(sent.at("/response_format/json_schema/schema/type").asText()).isEqualTo("object");
  }

  @Test
  void loopbackServer_goesThroughTheLoopbackClient_theJdkClientStreamsTheSame() throws Exception {
    open(Duration.ofSeconds(10));
    assertThat(((HttpEngine) engine).usesLoopbackClient()).isTrue();
    GenerationRequest req =
        GenerationRequest.ofChat(List.of(ChatMessage.user("Oil temperature on press 3?")), 5);
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    HttpEngine jdk =
        HttpEngine.openWithJdkClient(
            new EngineConfig.HttpBackend(
                base,
                "m",
                Optional.of("secret"),
                Duration.ofSeconds(2),
                Duration.ofSeconds(10),
                Duration.ofSeconds(10),
                true),
            HttpEngine.Options.external(),
            ModelSpec.of(Path.of("/unused.gguf"), 1, 2048),
            java.time.Clock.systemUTC());
    try {
      assertThat(jdk.usesLoopbackClient()).isFalse();
      GenerationResult viaJdk = jdk.generate(req, TokenListener.NONE).await();
      GenerationResult viaLoopback = engine.generate(req, TokenListener.NONE).await();
      assertThat(viaLoopback.text()).isEqualTo(viaJdk.text()).isEqualTo("Press 3 is 71.2 °C");
      assertThat(viaLoopback.promptTokens()).isEqualTo(viaJdk.promptTokens()).isEqualTo(12);
    } finally {
      jdk.close();
    }
  }

  @Test
  void tokenLogprobs_becomeTheMeanTokenProbability_andTheirAbsenceNone() throws Exception {
    open(Duration.ofSeconds(10));
    GenerationRequest req =
        GenerationRequest.ofChat(List.of(ChatMessage.user("Oil temperature on press 3?")), 5);

    GenerationResult without = engine.generate(req, piece -> {}).await();
    mode = "logprobs";
    GenerationResult with = engine.generate(req, piece -> {}).await();

    assertThat(without.meanTokenProbability()).isEmpty();
    // 0.5, 0.25, 0.5, 0.25, 0.5
    assertThat(with.meanTokenProbability().getAsDouble()).isCloseTo(0.4, within(1e-9));
  }

  @Test
  void rawPrompt_usesTheCompletionsEndpoint() throws Exception {
    open(Duration.ofSeconds(10));
    GenerationResult r =
        engine.generate(GenerationRequest.ofPrompt("Oil:", 5), TokenListener.NONE).await();
    assertThat(r.text()).isEqualTo("Press 3 is 71.2 °C");
    assertThat(bodies.get(0).path("prompt").asText()).isEqualTo("Oil:");
  }

  @Test
  void clientError_isRequestRejected_serverError_isEngineUnavailable() throws Exception {
    open(Duration.ofSeconds(10));
    mode = "400";
    assertThatThrownBy(
            () -> engine.generate(GenerationRequest.ofPrompt("x", 2), TokenListener.NONE).await())
        .isInstanceOf(RequestRejectedException.class)
        .hasMessageContaining("refused the request with 400")
        .hasMessageContaining("bad schema");
    mode = "503";
    assertThatThrownBy(
            () -> engine.generate(GenerationRequest.ofPrompt("x", 2), TokenListener.NONE).await())
        .isInstanceOf(EngineUnavailableException.class)
        .hasMessageContaining("failed with 503");
  }

  @Test
  void stalledStream_isCutAfterTheTokenTimeout() throws Exception {
    open(Duration.ofMillis(300));
    mode = "stall";
    Generation g = engine.generate(GenerationRequest.ofPrompt("x", 5), TokenListener.NONE);
    assertThatThrownBy(g::await)
        .isInstanceOf(EngineUnavailableException.class)
        .hasMessageContaining("request 1 had no new token for PT0.3S");
  }

  @Test
  void cancel_midStream_closesItAndReturnsTheTextSoFar() throws Exception {
    open(Duration.ofSeconds(10));
    mode = "slow";
    CountDownLatch two = new CountDownLatch(2);
    Generation g = engine.generate(GenerationRequest.ofPrompt("x", 5), p -> two.countDown());
    assertThat(two.await(10, TimeUnit.SECONDS)).isTrue();
    g.cancel();
    GenerationResult r = g.result().get(10, TimeUnit.SECONDS);
    assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
    assertThat(r.text()).isEqualTo("Press 3");
  }

  @Test
  void countPromptTokens_usesTheTokenizeEndpoint() throws Exception {
    open(Duration.ofSeconds(10));
    assertThat(engine.countPromptTokens(GenerationRequest.ofPrompt("a b c d", 1))).isEqualTo(4);
    assertThat(HttpEngine.estimate(GenerationRequest.ofPrompt("x".repeat(100), 1))).isEqualTo(66);
  }

  @Test
  void countWithin_boundFits_skipsTheTokenizer_nearTheLimit_countsExactly() throws Exception {
    open(Duration.ofSeconds(10));
    GenerationRequest prompt = GenerationRequest.ofPrompt("a b c d", 1);

    // 7 bytes + 8 added tokens = 15: far below 1000, no round trip.
    assertThat(engine.countPromptTokensWithin(prompt, 1000)).isEqualTo(15);
    assertThat(tokenizeCalls).hasValue(0);
    // Below the bound: counted (4 tokens, which fit in 10).
    assertThat(engine.countPromptTokensWithin(prompt, 10)).isEqualTo(4);
    assertThat(tokenizeCalls).hasValue(1);
    // Below the count: the exact count, above the limit, so the caller refuses it.
    assertThat(engine.countPromptTokensWithin(prompt, 3)).isEqualTo(4);
    assertThat(tokenizeCalls).hasValue(2);
  }

  @Test
  void countWithin_chat_measuresTheTemplateOncePerRoleSequence() throws Exception {
    open(Duration.ofSeconds(10));
    GenerationRequest chat =
        GenerationRequest.ofChat(
            List.of(ChatMessage.system("Be brief."), ChatMessage.user("Status of press 3?")), 8);
    GenerationRequest other =
        GenerationRequest.ofChat(
            List.of(ChatMessage.system("Be short."), ChatMessage.user("And press 4?")), 8);

    int first = engine.countPromptTokensWithin(chat, 100_000);
    int second = engine.countPromptTokensWithin(other, 100_000);

    // The stand-in template renders "<|role|>\n" + content + "<|end|>\n" per message and
    // "<|assistant|>\n" at the end: 11 + 8 + 9 + 8 + 14 = 50 bytes of template for system, user.
    assertThat(first).isEqualTo(50 + "Be brief.".length() + "Status of press 3?".length() + 8);
    assertThat(second).isEqualTo(50 + "Be short.".length() + "And press 4?".length() + 8);
    assertThat(templateCalls).as("one measurement for the role sequence").hasValue(1);
    assertThat(tokenizeCalls).hasValue(0);
    assertThat(((HttpEngine) engine).countsSkipped()).isEqualTo(2);
  }

  @Test
  void open_unreachableServer_saysSo() {
    EngineConfig.HttpBackend cfg =
        EngineConfig.HttpBackend.of(URI.create("http://127.0.0.1:9"), "m", false);
    assertThatThrownBy(
            () -> InferenceEngines.open(cfg, ModelSpec.of(Path.of("/unused.gguf"), 1, 2048)))
        .isInstanceOf(EngineUnavailableException.class)
        .hasMessageStartingWith("Cannot reach the inference server at http://127.0.0.1:9")
        .hasMessageEndingWith(". Start it or fix baseUri.");
  }
}
