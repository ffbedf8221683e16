package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.testkit.ModelShape.Architecture;
import io.edgeslm.testkit.internal.process.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Loads synthetic models of every architecture, in Q8_0 and Q4_K_M, in the current llama.cpp
 * ({@code llama-server} of the pinned release, see {@link LlamaServerBinary}) and generates from
 * them. Fails when the binary is missing: CI builds it.
 */
class SyntheticModelServerIT {
  private static final String SENTENCE =
      "The pump temperature is 81.5 degrees, above the threshold: check valve 3 now!";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  static Stream<Arguments> models() {
    List<Arguments> out = new ArrayList<>();
    for (Architecture a : Architecture.values()) {
      for (Quantization q : List.of(Quantization.Q8_0, Quantization.Q4_K_M)) {
        out.add(Arguments.of(a, q));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("models")
  void tinyModel_loadsInCurrentLlamaCpp_roundTripsTextAppliesTemplateAndGenerates(
      Architecture arch, Quantization q) throws Exception {
    SyntheticModel model = SyntheticModel.of(ModelShape.tiny(arch), q, 42);
    try (Server s = Server.start(model.write(dir.resolve(model.suggestedFileName())), dir)) {
      JsonNode props = s.get("/props");
      assertThat(props.path("model_ftype").asText())
          .isEqualTo(q == Quantization.Q8_0 ? "Q8_0" : "Q4_K - Medium");

      JsonNode tokens = s.post("/tokenize", body().put("content", SENTENCE)).get("tokens");
      assertThat(tokens.size()).isBetween(10, SENTENCE.length() / 2);
      ObjectNode detok = body();
      detok.set("tokens", tokens);
      assertThat(s.post("/detokenize", detok).get("content").asText()).isEqualTo(" " + SENTENCE);

      // llama-server leaves the BOS token out of the rendered text: tokenization adds it.
      assertThat(s.post("/apply-template", messages()).get("prompt").asText())
          .isEqualTo(
              switch (arch) {
                case LLAMA ->
                    "<|start_header_id|>system<|end_header_id|>\n\n"
                        + "You watch the pumps.<|eot_id|><|start_header_id|>user<|end_header_id|>"
                        + "\n\nIs pump 3 ok?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n";
                case QWEN2, QWEN3 ->
                    "<|im_start|>system\nYou watch the pumps.<|im_end|>\n"
                        + "<|im_start|>user\nIs pump 3 ok?<|im_end|>\n<|im_start|>assistant\n";
                case GEMMA3 ->
                    "<start_of_turn>user\nYou watch the pumps.\n\nIs pump 3 ok?<end_of_turn>\n"
                        + "<start_of_turn>model\n";
              });

      JsonNode done =
          s.post(
              "/completion",
              body()
                  .put("prompt", "The pump temperature is")
                  .put("n_predict", 8)
                  .put("temperature", 0)
                  .put("ignore_eos", true));
      assertThat(done.get("tokens_predicted").asInt()).isEqualTo(8);
      assertThat(done.get("content").asText()).isNotBlank();
    }
  }

  @Test
  void qwen3Template_thinkingSwitch_closesAnEmptyThinkBlock_andHistoryDropsReasoning()
      throws Exception {
    SyntheticModel model =
        SyntheticModel.of(ModelShape.tiny(Architecture.QWEN3), Quantization.Q4_K_M, 3);
    try (Server s = Server.start(model.write(dir.resolve(model.suggestedFileName())), dir)) {
      ObjectNode history = messages();
      history
          .withArray("messages")
          .add(body().put("role", "assistant").put("content", "<think>\nvalves\n</think>\n\nYes."))
          .add(body().put("role", "user").put("content", "And pump 4?"));
      String thinking = s.post("/apply-template", history).get("prompt").asText();
      ObjectNode off = history.deepCopy();
      off.putObject("chat_template_kwargs").put("enable_thinking", false);
      String direct = s.post("/apply-template", off).get("prompt").asText();

      String turns =
          "<|im_start|>system\nYou watch the pumps.<|im_end|>\n"
              + "<|im_start|>user\nIs pump 3 ok?<|im_end|>\n"
              + "<|im_start|>assistant\nYes.<|im_end|>\n"
              + "<|im_start|>user\nAnd pump 4?<|im_end|>\n<|im_start|>assistant\n";
      assertThat(thinking).isEqualTo(turns);
      assertThat(direct).isEqualTo(turns + "<think>\n\n</think>\n\n");
      // <think> is one user-defined token, as in Qwen3's own vocabulary
      assertThat(s.post("/tokenize", body().put("content", "<think>")).get("tokens").size())
          .isEqualTo(1);
    }
  }

  private static ObjectNode body() {
    return JSON.createObjectNode();
  }

  private static ObjectNode messages() {
    ObjectNode b = body();
    b.putArray("messages")
        .add(body().put("role", "system").put("content", "You watch the pumps."))
        .add(body().put("role", "user").put("content", "Is pump 3 ok?"));
    return b;
  }

  /**
   * A llama-server child on a free loopback port, killed on close ({@code extra}: more arguments,
   * such as {@code --lora}).
   */
  record Server(Process process, String base, Path log) implements AutoCloseable {
    static Server start(Path gguf, Path dir, String... extra) throws Exception {
      int port = Ports.freeLoopbackPort();
      Path log = Files.createTempFile(dir, "llama-server", ".log");
      List<String> command =
          new ArrayList<>(
              List.of(
                  LlamaServerBinary.require().toString(),
                  "-m",
                  gguf.toString(),
                  "--host",
                  "127.0.0.1",
                  "--port",
                  Integer.toString(port),
                  "-t",
                  "2",
                  "-c",
                  "1024",
                  "-np",
                  "1"));
      command.addAll(List.of(extra));
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      Server s = new Server(p, "http://127.0.0.1:" + port, log);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        if (!p.isAlive()) {
          throw new AssertionError(
              "llama-server exited with " + p.exitValue() + " loading " + gguf + ":\n" + s.tail());
        }
        try {
          HttpResponse<String> r =
              HTTP.send(
                  HttpRequest.newBuilder(URI.create(s.base + "/health")).build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) {
            return s;
          }
        } catch (IOException notYet) {
          // not listening yet
        }
        if (System.nanoTime() > deadline) {
          s.close();
          throw new AssertionError("llama-server not ready after 60 s:\n" + s.tail());
        }
        Thread.sleep(100);
      }
    }

    JsonNode get(String path) throws Exception {
      return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    /** Posts {@code body}; the response status and body, whatever the status. */
    HttpResponse<String> postRaw(String path, JsonNode body) throws Exception {
      return HTTP.send(
          HttpRequest.newBuilder(URI.create(base + path))
              .header("Content-Type", "application/json")
              .timeout(Duration.ofSeconds(60))
              .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }

    JsonNode post(String path, JsonNode body) throws Exception {
      return send(
          HttpRequest.newBuilder(URI.create(base + path))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
    }

    private JsonNode send(HttpRequest.Builder b) throws Exception {
      HttpResponse<String> r =
          HTTP.send(
              b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("%s: %s", b.build().uri(), r.body()).isEqualTo(200);
      return JSON.readTree(r.body());
    }

    String tail() {
      try {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
