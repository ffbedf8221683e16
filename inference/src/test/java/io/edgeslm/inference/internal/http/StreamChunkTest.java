package io.edgeslm.inference.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The streamed chunk reader against llama-server's own chunk shapes, escapes and unicode, and
 * against the tree reading it replaced ({@code readTree} and {@code path(...)}) on random chunks.
 */
class StreamChunkTest {

  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void llamaServerChatChunks_giveTheirPieceLogprobsFinishAndUsage() throws IOException {
    // Shapes as llama-server sends them: the role delta first, then content with logprobs, then
    // the finish, then usage with an empty choices array.
    StreamChunk role =
        StreamChunk.parse(
            "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":\"assistant\","
                + "\"content\":null}}],\"created\":1765152000,\"id\":\"chatcmpl-x\",\"model\":\"m\","
                + "\"system_fingerprint\":\"b1\",\"object\":\"chat.completion.chunk\"}",
            true);
    assertThat(role.hasChoice).isTrue();
    assertThat(role.piece).isEmpty();
    assertThat(role.finishReason).isEmpty();

    StreamChunk token =
        StreamChunk.parse(
            "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\" Press\"},"
                + "\"logprobs\":{\"content\":[{\"id\":5,\"token\":\" Press\",\"bytes\":[32,80],"
                + "\"logprob\":-0.6931471805599453,\"top_logprobs\":[{\"id\":5,\"token\":\" Press\","
                + "\"logprob\":-0.6931471805599453}]}]}}],\"timings\":{\"prompt_n\":3}}",
            true);
    assertThat(token.piece).isEqualTo(" Press");
    assertThat(token.probabilityCount).as("top_logprobs are not entries").isEqualTo(1);
    assertThat(token.probabilitySum).isCloseTo(0.5, within(1e-12));

    StreamChunk last =
        StreamChunk.parse(
            "{\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"delta\":{}}]}", true);
    assertThat(last.finishReason).isEqualTo("length");
    assertThat(last.piece).isEmpty();

    StreamChunk usage =
        StreamChunk.parse(
            "{\"choices\":[],\"usage\":{\"completion_tokens\":8,\"prompt_tokens\":41,"
                + "\"total_tokens\":49}}",
            true);
    assertThat(usage.hasChoice).isFalse();
    assertThat(usage.promptTokens).isEqualTo(41);
    assertThat(usage.completionTokens).isEqualTo(8);
    assertThat(usage.error).isFalse();
  }

  @Test
  void escapesAndUnicode_decodeAsTheText() throws IOException {
    StreamChunk c =
        StreamChunk.parse(
            "{\"choices\":[{\"delta\":{\"content\":\"a\\\"b\\\\c\\n\\t\\u00e9\\ud83d\\ude42 é🙂"
                + " \\\"content\\\":\\\"no\\\"\"}}]}",
            true);
    assertThat(c.piece).isEqualTo("a\"b\\c\n\té🙂 é🙂 \"content\":\"no\"");
  }

  @Test
  void rawPromptChunks_readText_notDelta() throws IOException {
    String json =
        "{\"choices\":[{\"text\":\"raw\",\"delta\":{\"content\":\"chat\"},\"finish_reason\":\"stop\"}]}";
    assertThat(StreamChunk.parse(json, false).piece).isEqualTo("raw");
    assertThat(StreamChunk.parse(json, true).piece).isEqualTo("chat");
  }

  @Test
  void errorMember_isSeen_whereverItIs() throws IOException {
    assertThat(
            StreamChunk.parse("{\"choices\":[],\"error\":{\"code\":500,\"message\":\"x\"}}", true)
                .error)
        .isTrue();
    assertThat(StreamChunk.parse("{\"error\":null}", true).error).isTrue();
  }

  @Test
  void otherJsonValues_carryNothing_andBrokenJsonFails() throws IOException {
    assertThat(StreamChunk.parse("[1,2]", true).hasChoice).isFalse();
    assertThat(StreamChunk.parse("\"text\"", true).hasChoice).isFalse();
    assertThatThrownBy(() -> StreamChunk.parse("{\"choices\":[{\"delta\":{\"content\":\"a", true))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> StreamChunk.parse("{\"choices\":[}", true))
        .isInstanceOf(IOException.class);
  }

  /**
   * Random chunks built from the fields the engine reads, each of a random JSON kind, mixed with
   * fields it skips: the reader gives what the tree reading gave.
   */
  @Test
  void randomChunks_readAsTheTreeReadThem() throws IOException {
    Random r = new Random(18);
    for (int i = 0; i < 5_000; i++) {
      String json = randomChunk(r);
      boolean chat = r.nextBoolean();
      StreamChunk c = StreamChunk.parse(json, chat);
      JsonNode tree = JSON.readTree(json);
      String at = json + " (chat " + chat + ")";
      assertThat(c.error).as(at).isEqualTo(tree.has("error"));
      JsonNode usage = tree.path("usage");
      assertThat(c.promptTokens)
          .as(at)
          .isEqualTo(usage.isObject() ? usage.path("prompt_tokens").asInt(-1) : -1);
      assertThat(c.completionTokens)
          .as(at)
          .isEqualTo(usage.isObject() ? usage.path("completion_tokens").asInt(-1) : -1);
      JsonNode choice = tree.path("choices").path(0);
      assertThat(c.hasChoice).as(at).isEqualTo(!choice.isMissingNode());
      if (choice.isMissingNode()) {
        continue;
      }
      String piece =
          chat ? choice.path("delta").path("content").asText("") : choice.path("text").asText("");
      assertThat(c.piece).as(at).isEqualTo(piece);
      assertThat(c.finishReason).as(at).isEqualTo(choice.path("finish_reason").asText(""));
      double sum = 0;
      int count = 0;
      JsonNode entries = choice.path("logprobs").path("content");
      if (entries.isArray()) {
        for (JsonNode t : entries) {
          JsonNode lp = t.path("logprob");
          if (lp.isNumber() && lp.asDouble() <= 0) {
            sum += Math.exp(lp.asDouble());
            count++;
          }
        }
      }
      assertThat(c.probabilityCount).as(at).isEqualTo(count);
      assertThat(c.probabilitySum).as(at).isCloseTo(sum, within(1e-9));
    }
  }

  static String randomChunk(Random r) throws IOException {
    List<String> members = new ArrayList<>();
    if (r.nextInt(8) == 0) {
      members.add("\"error\":" + value(r, 1));
    }
    if (r.nextInt(3) == 0) {
      members.add(
          "\"usage\":"
              + (r.nextInt(5) == 0
                  ? value(r, 1)
                  : obj(
                      r,
                      "\"prompt_tokens\":" + number(r),
                      "\"completion_tokens\":" + number(r),
                      "\"total_tokens\":" + number(r))));
    }
    if (r.nextInt(6) != 0) {
      List<String> choices = new ArrayList<>();
      int n = r.nextInt(3);
      for (int k = 0; k < n; k++) {
        choices.add(
            r.nextInt(6) == 0
                ? value(r, 1)
                : obj(
                    r,
                    "\"delta\":"
                        + (r.nextInt(4) == 0
                            ? value(r, 1)
                            : obj(r, "\"role\":\"assistant\"", "\"content\":" + text(r))),
                    "\"text\":" + text(r),
                    "\"finish_reason\":" + (r.nextBoolean() ? "\"length\"" : value(r, 0)),
                    "\"logprobs\":" + logprobs(r),
                    "\"index\":0"));
      }
      members.add(
          "\"choices\":"
              + (r.nextInt(8) == 0 ? value(r, 1) : "[" + String.join(",", choices) + "]"));
    }
    members.add("\"id\":" + value(r, 2));
    java.util.Collections.shuffle(members, r);
    return "{" + String.join(",", members) + "}";
  }

  /** An object of a random subset of {@code members}, in random order. */
  static String obj(Random r, String... members) {
    List<String> kept = new ArrayList<>();
    for (String m : members) {
      if (r.nextInt(4) != 0) {
        kept.add(m);
      }
    }
    java.util.Collections.shuffle(kept, r);
    return "{" + String.join(",", kept) + "}";
  }

  static String logprobs(Random r) throws IOException {
    if (r.nextInt(5) == 0) {
      return value(r, 1);
    }
    List<String> entries = new ArrayList<>();
    int n = r.nextInt(4);
    for (int k = 0; k < n; k++) {
      entries.add(
          r.nextInt(5) == 0
              ? value(r, 1)
              : obj(
                  r,
                  "\"token\":" + text(r),
                  "\"logprob\":"
                      + (r.nextInt(4) == 0
                          ? value(r, 0)
                          : Double.toString(-r.nextDouble() * 5 + 0.5)),
                  "\"top_logprobs\":[{\"logprob\":-0.1}]"));
    }
    return obj(
        r,
        "\"content\":" + (r.nextInt(6) == 0 ? value(r, 1) : "[" + String.join(",", entries) + "]"));
  }

  static String number(Random r) {
    return switch (r.nextInt(5)) {
      case 0 -> "\"" + r.nextInt(100) + "\"";
      case 1 -> "null";
      case 2 -> r.nextInt(100) + ".5";
      default -> Integer.toString(r.nextInt(1000));
    };
  }

  static String text(Random r) throws IOException {
    if (r.nextInt(6) == 0) {
      return value(r, 1);
    }
    String[] parts = {
      "a", " ", "\"", "\\", "\n", "é", "🙂", "\u0000", "\u2028", "content", "{", "}"
    };
    StringBuilder b = new StringBuilder();
    int n = r.nextInt(6);
    for (int k = 0; k < n; k++) {
      b.append(parts[r.nextInt(parts.length)]);
    }
    return JSON.writeValueAsString(b.toString());
  }

  /** A random JSON value of any kind, nested at most {@code depth} deep. */
  static String value(Random r, int depth) throws IOException {
    int kind = r.nextInt(depth > 0 ? 7 : 5);
    return switch (kind) {
      case 0 -> "null";
      case 1 -> r.nextBoolean() ? "true" : "false";
      case 2 -> Integer.toString(r.nextInt(2000) - 1000);
      case 3 -> "-" + r.nextInt(10) + "." + r.nextInt(100);
      case 4 -> JSON.writeValueAsString("s" + r.nextInt(10));
      case 5 -> "[" + value(r, depth - 1) + "," + value(r, depth - 1) + "]";
      default -> "{\"content\":" + value(r, depth - 1) + ",\"logprob\":-1}";
    };
  }
}
