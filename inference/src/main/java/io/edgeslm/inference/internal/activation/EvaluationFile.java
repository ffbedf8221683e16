package io.edgeslm.inference.internal.activation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.edgeslm.inference.ActivationCheck;
import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.EvaluationCase;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.ModelLoadException;
import io.edgeslm.inference.OutputSchema;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** Reads the evaluation-file JSON (format in docs/inference.md) with explicit bounds. */
public final class EvaluationFile {
  /** Largest nPredict of one case: an activation check must stay short. */
  public static final int MAX_CASE_N_PREDICT = 1024;

  private static final Set<String> TOP_FIELDS = Set.of("schemaVersion", "minScore", "cases");
  private static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  static {
    MAPPER
        .getFactory()
        .setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
  }

  private EvaluationFile() {}

  /** Parsed content. */
  public record Parsed(double minScore, List<EvaluationCase> cases) {}

  public static Parsed read(Path file) throws ModelLoadException {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(ActivationCheck.MAX_FILE_BYTES + 1);
    } catch (IOException e) {
      throw new ModelLoadException(
          "Cannot read evaluation file '" + file + "': " + e.getMessage(), e);
    }
    if (bytes.length > ActivationCheck.MAX_FILE_BYTES) {
      throw new ModelLoadException(
          "Evaluation file '"
              + file
              + "' is larger than "
              + ActivationCheck.MAX_FILE_BYTES
              + " bytes. Keep activation checks small (at most "
              + ActivationCheck.MAX_CASES
              + " short cases).");
    }
    return parse(new String(bytes, StandardCharsets.UTF_8), file.toString());
  }

  public static Parsed parse(String json, String origin) throws ModelLoadException {
    if (json.length() > ActivationCheck.MAX_FILE_BYTES) {
      throw bad(origin, "the file is larger than " + ActivationCheck.MAX_FILE_BYTES + " bytes");
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw bad(origin, "it is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw bad(origin, "the top level must be a JSON object");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!TOP_FIELDS.contains(f)) {
        throw bad(origin, "unknown top-level field '" + f + "' (allowed: " + TOP_FIELDS + ")");
      }
    }
    JsonNode version = root.get("schemaVersion");
    if (version == null || !version.isInt() || version.intValue() != 1) {
      throw bad(origin, "schemaVersion must be 1, found " + version);
    }
    JsonNode min = root.get("minScore");
    double minScore = 1.0;
    if (min != null) {
      if (!min.isNumber() || min.doubleValue() < 0 || min.doubleValue() > 1) {
        throw bad(origin, "minScore must be a number in 0..1, found " + min);
      }
      minScore = min.doubleValue();
    }
    JsonNode cases = root.get("cases");
    if (cases == null || !cases.isArray() || cases.isEmpty()) {
      throw bad(origin, "cases must be a non-empty array");
    }
    if (cases.size() > ActivationCheck.MAX_CASES) {
      throw bad(
          origin,
          "cases holds " + cases.size() + " entries, more than " + ActivationCheck.MAX_CASES);
    }
    List<EvaluationCase> out = new ArrayList<>();
    int i = 0;
    for (JsonNode c : cases) {
      out.add(parseCase(origin, "cases[" + i++ + "]", c));
    }
    try {
      ActivationCheck.of(out, minScore);
    } catch (IllegalArgumentException e) {
      throw bad(origin, e.getMessage());
    }
    return new Parsed(minScore, out);
  }

  private static EvaluationCase parseCase(String origin, String where, JsonNode c)
      throws ModelLoadException {
    if (!c.isObject()) {
      throw bad(origin, where + " must be an object");
    }
    String id = text(origin, where + ".id", c.get("id"), true);
    JsonNode prompt = c.get("prompt");
    JsonNode messages = c.get("messages");
    int nPredict = c.has("nPredict") ? c.get("nPredict").asInt(-1) : 128;
    if (nPredict < 1 || nPredict > MAX_CASE_N_PREDICT) {
      throw bad(origin, where + ".nPredict must be in 1.." + MAX_CASE_N_PREDICT);
    }
    try {
      GenerationRequest request;
      if (prompt != null && messages == null) {
        request =
            GenerationRequest.ofPrompt(text(origin, where + ".prompt", prompt, true), nPredict);
      } else if (messages != null && prompt == null && messages.isArray()) {
        List<ChatMessage> list = new ArrayList<>();
        for (JsonNode m : messages) {
          String role = text(origin, where + ".messages[].role", m.get("role"), true);
          String content = text(origin, where + ".messages[].content", m.get("content"), true);
          ChatMessage.Role r;
          try {
            r = ChatMessage.Role.valueOf(role.toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            throw bad(origin, where + ": unknown role '" + role + "' (system, user, assistant)");
          }
          list.add(new ChatMessage(r, content));
        }
        request = GenerationRequest.ofChat(list, nPredict);
      } else {
        throw bad(origin, where + " needs exactly one of 'prompt' or 'messages'");
      }
      if (c.has("temperature") || c.has("seed")) {
        request =
            request.withSampling(
                c.path("temperature").asDouble(0), c.has("seed") ? c.get("seed").asInt() : 0);
      }
      if (c.has("stop")) {
        List<String> stops = new ArrayList<>();
        for (JsonNode s : c.get("stop")) {
          stops.add(text(origin, where + ".stop[]", s, true));
        }
        request = request.withStopStrings(stops);
      }
      JsonNode schema = c.get("jsonSchema");
      if (schema != null) {
        request = request.withJsonSchema(OutputSchema.of(schema).json());
      }
      JsonNode grammar = c.get("grammar");
      if (grammar != null) {
        request = request.withGrammar(text(origin, where + ".grammar", grammar, true));
      }
      JsonNode expect = c.path("expect");
      boolean validJson = expect.path("validJson").asBoolean(false);
      List<String> contains = new ArrayList<>();
      for (JsonNode s : expect.path("contains")) {
        contains.add(text(origin, where + ".expect.contains[]", s, true));
      }
      Optional<String> pointer = Optional.empty();
      List<String> values = new ArrayList<>();
      JsonNode en = expect.get("enum");
      if (en != null) {
        pointer =
            Optional.of(text(origin, where + ".expect.enum.pointer", en.get("pointer"), false));
        for (JsonNode v : en.path("values")) {
          values.add(text(origin, where + ".expect.enum.values[]", v, false));
        }
      }
      int maxChars = expect.path("maxChars").asInt(0);
      return new EvaluationCase(id, request, validJson, contains, pointer, values, maxChars);
    } catch (IllegalArgumentException e) {
      throw bad(origin, where + ": " + e.getMessage());
    }
  }

  private static String text(String origin, String where, JsonNode n, boolean nonEmpty)
      throws ModelLoadException {
    if (n == null || !n.isTextual() || (nonEmpty && n.textValue().isEmpty())) {
      throw bad(origin, where + " must be a " + (nonEmpty ? "non-empty " : "") + "string");
    }
    return n.textValue();
  }

  private static ModelLoadException bad(String origin, String why) {
    return new ModelLoadException(
        "Evaluation file '"
            + origin
            + "' is invalid: "
            + why
            + ". Fix the file in the bundle (format: docs/inference.md, 'Activation check').");
  }
}
