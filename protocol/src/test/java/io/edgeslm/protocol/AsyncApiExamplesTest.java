package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.ValidationMessage;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example in {@code docs/asyncapi.yaml} against the Java records and the document's own
 * schemas: each payload is read into the record named by its message, written back, and compared as
 * a JSON tree (a record that drops or renames a field fails); each payload and headers example also
 * validates against the message's schema.
 */
class AsyncApiExamplesTest {

  /** Messages whose payload is JSON read by the record of the same simple name. */
  private static final String RECORD_PACKAGE = "io.edgeslm.protocol.";

  /** The one message without a JSON payload: a binary chunk, whose headers are user properties. */
  private static final String BINARY_CHUNK = "BinaryChunk";

  /** Messages read through a sealed interface as well as through their own record. */
  private static final Map<String, Class<?>> SEALED =
      Map.of(
          "AnswerPart", Reply.class,
          "Answer", Reply.class,
          "ErrorReply", Reply.class,
          "ChunkData", ChunkReply.class,
          "ChunkError", ChunkReply.class);

  static Stream<Arguments> examples() throws Exception {
    List<Arguments> out = new ArrayList<>();
    JsonNode messages = AsyncApiDocument.tree().at("/components/messages");
    for (Map.Entry<String, JsonNode> m : messages.properties()) {
      JsonNode examples = m.getValue().path("examples");
      for (int i = 0; i < examples.size(); i++) {
        JsonNode example = examples.get(i);
        out.add(
            Arguments.of(
                m.getKey() + "/" + example.path("name").asText(String.valueOf(i)),
                m.getKey(),
                m.getValue(),
                example));
      }
    }
    return out.stream();
  }

  @Test
  void everyMessage_hasExamples_andAName_matchingItsKey() throws Exception {
    JsonNode messages = AsyncApiDocument.tree().at("/components/messages");
    Set<String> names = new TreeSet<>();
    messages.fieldNames().forEachRemaining(names::add);
    // One message per wire record (plus the binary chunk); a new record needs a documented message.
    assertThat(names)
        .containsExactlyInAnyOrder(
            "Question",
            "AnswerPart",
            "Answer",
            "ErrorReply",
            "SensorReading",
            "SensorReport",
            "NodeStatus",
            "NodeBirth",
            "NodeHealth",
            "JournalBatch",
            "JournalAck",
            "UpdateAssignment",
            "ChunkRequest",
            "BinaryChunk",
            "ChunkData",
            "ChunkError",
            "UpdateProgress",
            "UpdateResult",
            "UpdateCommand");
    for (Map.Entry<String, JsonNode> m : messages.properties()) {
      assertThat(m.getValue().path("name").asText())
          .as("name of " + m.getKey())
          .isEqualTo(m.getKey());
      assertThat(m.getValue().path("examples").size()).as("examples of " + m.getKey()).isPositive();
    }
  }

  @Test
  void everyChannelOfTheTopicsHelper_isInTheDocument_andViceVersa() throws Exception {
    Set<String> documented = new TreeSet<>();
    for (JsonNode channel : AsyncApiDocument.tree().at("/channels")) {
      String address = channel.path("address").asText("");
      if (address.startsWith("edge/v1/{site}/{node}/")) {
        documented.add(address.substring("edge/v1/{site}/{node}/".length()));
      }
    }
    Set<String> known = new TreeSet<>();
    for (Channel c : Channel.values()) {
      known.add(c.suffix());
    }

    assertThat(documented).isEqualTo(known);
  }

  @Test
  void everyReasonCode_isListedInTheDocument_andViceVersa() throws Exception {
    List<String> documented = new ArrayList<>();
    AsyncApiDocument.tree()
        .at("/components/schemas/ReasonCode/enum")
        .forEach(c -> documented.add(c.asText()));
    List<String> known = new ArrayList<>();
    for (ReasonCode c : ReasonCode.values()) {
      known.add(c.code());
    }

    assertThat(documented).as("ReasonCode enum in docs/asyncapi.yaml").isNotEmpty();
    assertThat(documented).containsExactlyElementsOf(known);
    assertThat(
            AsyncApiDocument.tree()
                .at("/components/schemas/UpdateResult/properties/reasonCode/$ref")
                .asText())
        .isEqualTo("#/components/schemas/ReasonCode");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void example_roundTripsThroughItsRecord(
      String label, String message, JsonNode definition, JsonNode example) throws Exception {
    if (message.equals(BINARY_CHUNK)) {
      Map<String, String> props = new LinkedHashMap<>();
      example
          .path("headers")
          .properties()
          .forEach(e -> props.put(e.getKey(), e.getValue().asText()));
      ChunkHeader header = ChunkHeader.fromUserProperties(props);
      assertThat(header.toUserProperties()).as(label).isEqualTo(props);
      return;
    }
    JsonNode payload = example.get("payload");
    assertThat(payload).as("payload of " + label).isNotNull();
    Class<?> type = Class.forName(RECORD_PACKAGE + message);

    Object value = Json.read(Json.write(payload), type);
    JsonNode written = Json.mapper().readTree(Json.write(value));

    assertThat(sameJson(expectedTree(message, payload), written))
        .as("%s: example%n  %s%nwritten back as%n  %s", label, payload, written)
        .isTrue();
    if (SEALED.containsKey(message)) {
      Object viaInterface = Json.read(Json.write(payload), SEALED.get(message));
      assertThat(viaInterface)
          .as(label + " read as " + SEALED.get(message).getSimpleName())
          .isEqualTo(value);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void example_validatesAgainstTheMessageSchemas(
      String label, String message, JsonNode definition, JsonNode example) throws Exception {
    String base = "/components/messages/" + message;
    if (example.has("payload")) {
      Set<ValidationMessage> errors =
          AsyncApiDocument.schemaAt(base + "/payload").validate(example.get("payload"));
      assertThat(errors).as("payload of " + label).isEmpty();
    }
    if (example.has("headers")) {
      assertThat(definition.has("headers"))
          .as(label + " has headers but no headers schema")
          .isTrue();
      Set<ValidationMessage> errors =
          AsyncApiDocument.schemaAt(base + "/headers").validate(example.get("headers"));
      assertThat(errors).as("headers of " + label).isEmpty();
    }
  }

  @Test
  void messageSchemas_rejectWhatTheRecordsReject() throws Exception {
    // The schemas are not decoration: a few payloads the records refuse must fail them too.
    assertThat(
            AsyncApiDocument.schemaAt("/components/messages/ErrorReply/payload")
                .validate(
                    tree(
                        "{\"type\":\"error\",\"schemaVersion\":1,\"code\":\"busy\",\"message\":\"m\"}")))
        .as("busy without retryAfterMs")
        .isNotEmpty();
    assertThat(
            AsyncApiDocument.schemaAt("/components/messages/Question/payload")
                .validate(tree("{\"question\":\"q\",\"replyTo\":\"a/b\"}")))
        .as("replyTo without id")
        .isNotEmpty();
    assertThat(
            AsyncApiDocument.schemaAt("/components/messages/ChunkRequest/payload")
                .validate(
                    tree(
                        "{\"schemaVersion\":1,\"requestId\":\"r\",\"assignmentId\":\"a\",\"file\":\"../x\","
                            + "\"first\":0,\"count\":1,\"replyTo\":\"a/b\"}")))
        .as("path traversal in file")
        .isNotEmpty();
    assertThat(
            AsyncApiDocument.schemaAt("/components/messages/SensorReport/payload")
                .validate(
                    tree(
                        "{\"schemaVersion\":1,\"status\":\"ok\",\"summary\":\"s\",\"anomalies\":[],"
                            + "\"recommendation\":\"r\",\"provenance\":{\"source\":\"model\","
                            + "\"fallback\":false,\"window\":{\"from\":\"2026-11-21T00:00:00Z\","
                            + "\"to\":\"2026-11-21T00:00:00Z\"},\"generatedAt\":\"2026-11-21T00:00:00Z\"}}")))
        .as("model source without a model")
        .isNotEmpty();
  }

  @Test
  void reportContentSchema_inTheDocument_equalsThePublishedResource() throws Exception {
    JsonNode inDocument =
        AsyncApiDocument.tree().at("/components/schemas/ReportContent").deepCopy();
    JsonNode published;
    try (var in = getClass().getClassLoader().getResourceAsStream(Protocol.SENSOR_REPORT_SCHEMA)) {
      published = Json.mapper().readTree(in).deepCopy();
    }
    for (String key : List.of("$schema", "$id", "title", "description")) {
      ((ObjectNode) inDocument).remove(key);
      ((ObjectNode) published).remove(key);
    }

    assertThat(sameJson(published, inDocument))
        .as("ReportContent vs sensor-report.schema.json")
        .isTrue();
  }

  /** What the record writes for an example: the bare-number sensor form comes back as an object. */
  private static JsonNode expectedTree(String message, JsonNode payload) {
    if (message.equals("SensorReading") && payload.isNumber()) {
      return JsonNodeFactory.instance.objectNode().set("value", payload);
    }
    return payload;
  }

  private static JsonNode tree(String json) throws Exception {
    return Json.mapper().readTree(json);
  }

  /** Tree equality where 88 and 88.0, or an int and a long, are the same JSON number. */
  static boolean sameJson(JsonNode a, JsonNode b) {
    Comparator<JsonNode> numbersByValue =
        (x, y) -> {
          if (x.isNumber() && y.isNumber()) {
            return new BigDecimal(x.asText()).compareTo(new BigDecimal(y.asText()));
          }
          return x.equals(y) ? 0 : 1;
        };
    return a.equals(numbersByValue, b);
  }
}
