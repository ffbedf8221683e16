package io.edgeslm.inference.internal.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * The fields {@link HttpEngine} reads from one streamed completion chunk (the JSON of one {@code
 * data:} event of the OpenAI streaming format), read with Jackson's streaming parser in one pass:
 * no tree is built and every member the engine does not use is skipped unread. Each event of a
 * stream went through {@code ObjectMapper.readTree} before, a tree of every logprob, timing and id
 * node per token, on the path to the first token. Strings are decoded by the parser (escapes,
 * surrogate pairs), so the piece is the same text the tree gave.
 *
 * <p>What is read, and as the tree's {@code path(...).asText("")} / {@code asInt(default)} read it:
 * whether the top level has {@code error}; {@code usage.prompt_tokens} and {@code
 * usage.completion_tokens}; of {@code choices[0]} only: {@code delta.content} (chat) or {@code
 * text} (raw prompts), {@code finish_reason}, and the {@code logprob} of each entry of {@code
 * logprobs.content}. A piece that is JSON null, an object or an array reads as "".
 */
final class StreamChunk {

  private static final JsonFactory JSON = new JsonFactory();

  /** Whether the top-level object has an {@code error} member. */
  boolean error;

  /** {@code usage.prompt_tokens}, or -1 when absent. */
  int promptTokens = -1;

  /** {@code usage.completion_tokens}, or -1 when absent. */
  int completionTokens = -1;

  /** Whether {@code choices} is an array with a first element. */
  boolean hasChoice;

  /** The first choice's text ({@code delta.content} or {@code text}), "" when absent. */
  String piece = "";

  /** The first choice's {@code finish_reason}, "" when absent or null. */
  String finishReason = "";

  /** Sum of {@code exp(logprob)} over the first choice's logprob entries with a logprob ≤ 0. */
  double probabilitySum;

  /** How many logprob entries {@link #probabilitySum} holds. */
  int probabilityCount;

  private StreamChunk() {}

  /**
   * Reads one chunk.
   *
   * @param json the event's data
   * @param chat true for {@code /v1/chat/completions} ({@code delta.content}), false for {@code
   *     /v1/completions} ({@code text})
   * @throws IOException if {@code json} is not well-formed JSON (the parser's message says where)
   */
  static StreamChunk parse(String json, boolean chat) throws IOException {
    StreamChunk c = new StreamChunk();
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        // Another JSON value carries none of these fields: nothing to read, as with the tree.
        p.skipChildren();
        return c;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        switch (name) {
          case "error" -> {
            c.error = true;
            p.skipChildren();
          }
          case "usage" -> c.usage(p, v);
          case "choices" -> c.choices(p, v, chat);
          default -> p.skipChildren();
        }
      }
    }
    return c;
  }

  private void usage(JsonParser p, JsonToken v) throws IOException {
    if (v != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      switch (name) {
        case "prompt_tokens" -> promptTokens = intOf(p, t, promptTokens);
        case "completion_tokens" -> completionTokens = intOf(p, t, completionTokens);
        default -> p.skipChildren();
      }
    }
  }

  private void choices(JsonParser p, JsonToken v, boolean chat) throws IOException {
    if (v != JsonToken.START_ARRAY) {
      p.skipChildren();
      return;
    }
    JsonToken first = p.nextToken();
    if (first == JsonToken.END_ARRAY) {
      return;
    }
    hasChoice = true;
    if (first == JsonToken.START_OBJECT) {
      choice(p, chat);
    } else {
      p.skipChildren();
    }
    // The other choices (n > 1, never asked for) are skipped.
    while (p.nextToken() != JsonToken.END_ARRAY) {
      p.skipChildren();
    }
  }

  private void choice(JsonParser p, boolean chat) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      switch (name) {
        case "delta" -> {
          if (chat && t == JsonToken.START_OBJECT) {
            delta(p);
          } else {
            p.skipChildren();
          }
        }
        case "text" -> {
          if (!chat) {
            piece = textOf(p, t);
          } else {
            p.skipChildren();
          }
        }
        case "finish_reason" -> finishReason = textOf(p, t);
        case "logprobs" -> logprobs(p, t);
        default -> p.skipChildren();
      }
    }
  }

  private void delta(JsonParser p) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if (name.equals("content")) {
        piece = textOf(p, t);
      } else {
        p.skipChildren();
      }
    }
  }

  private void logprobs(JsonParser p, JsonToken v) throws IOException {
    if (v != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if (name.equals("content") && t == JsonToken.START_ARRAY) {
        while (p.nextToken() != JsonToken.END_ARRAY) {
          if (p.currentToken() == JsonToken.START_OBJECT) {
            entry(p);
          } else {
            p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
  }

  /** One logprob entry: its {@code logprob}, the token and its alternatives skipped. */
  private void entry(JsonParser p) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if (name.equals("logprob") && t.isNumeric()) {
        double lp = p.getDoubleValue();
        if (lp <= 0) {
          probabilitySum += Math.exp(lp);
          probabilityCount++;
        }
      } else {
        p.skipChildren();
      }
    }
  }

  /** As {@code JsonNode.asText("")}: strings and scalars as their text, null and containers "". */
  private static String textOf(JsonParser p, JsonToken t) throws IOException {
    if (t == JsonToken.VALUE_NUMBER_FLOAT) {
      return Double.toString(p.getDoubleValue()); // as the tree's DoubleNode writes it
    }
    if (t == JsonToken.VALUE_STRING || t.isNumeric() || t.isBoolean()) {
      return p.getText();
    }
    p.skipChildren();
    return "";
  }

  /**
   * As {@code JsonNode.asInt(otherwise)} for numbers and numeric strings; else {@code otherwise}.
   */
  private static int intOf(JsonParser p, JsonToken t, int otherwise) throws IOException {
    if (t.isNumeric() || t == JsonToken.VALUE_STRING) {
      return p.getValueAsInt(otherwise);
    }
    p.skipChildren();
    return otherwise;
  }
}
