package io.edgeslm.agent.internal.escalation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Source;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * An OpenAI-compatible endpoint inside the plant as the escalation target: one {@code POST
 * /v1/chat/completions} (not streamed) per question, whose user message holds the question and the
 * sensor values the policy lets go along, and nothing else of the node's. The response is read up
 * to {@value #MAX_RESPONSE_BYTES} bytes; the request is bounded by the escalation timeout.
 */
public final class EndpointTarget implements EscalationTarget {

  static final int MAX_RESPONSE_BYTES = 1 << 20;
  private static final int MAX_ERROR_CHARS = 300;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  static final String SYSTEM_PROMPT =
      "You answer questions from operators of an industrial plant. Use the sensor values given"
          + " with the question when they help; say so when you do not know. Answer briefly.";

  private final EscalationSettings.Endpoint endpoint;
  private final URI completions;
  private final ModelRef identity;
  private final HttpClient client;

  public EndpointTarget(EscalationSettings.Endpoint endpoint, Duration connectTimeout) {
    this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    String root = endpoint.url().toString();
    this.completions = URI.create(root.replaceAll("/+$", "") + "/v1/chat/completions");
    this.identity = identity(endpoint);
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(connectTimeout)
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /**
   * What answers from the endpoint name as their model: the model id, and a digest of the endpoint
   * and model id (the node cannot see the weights), as for the agent's own {@code http} engine.
   */
  static ModelRef identity(EscalationSettings.Endpoint e) {
    String name = e.model().replaceAll("[^A-Za-z0-9._:-]", "-").replaceAll("^[^A-Za-z0-9]+", "");
    if (name.length() > 128) {
      name = name.substring(0, 128);
    }
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest(("endpoint " + e.url() + " " + e.model()).getBytes(StandardCharsets.UTF_8));
      return ModelRef.of(
          name.isEmpty() ? "model" : name, 1, "sha256:" + HexFormat.of().formatHex(d));
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException("every JDK has SHA-256", ex);
    }
  }

  @Override
  public String label() {
    return endpoint.label();
  }

  /** The request body: the question and the allowed values, nothing else. */
  ObjectNode body(String question, List<SensorCitation> values) {
    ObjectNode b = MAPPER.createObjectNode();
    b.put("model", endpoint.model());
    ArrayNode msgs = b.putArray("messages");
    msgs.addObject().put("role", "system").put("content", SYSTEM_PROMPT);
    msgs.addObject().put("role", "user").put("content", userMessage(question, values));
    b.put("max_tokens", endpoint.answerTokens());
    b.put("temperature", endpoint.temperature());
    if (endpoint.temperature() > 0) {
      b.put("seed", 0);
    }
    b.put("stream", false);
    return b;
  }

  static String userMessage(String question, List<SensorCitation> values) {
    StringBuilder u = new StringBuilder();
    if (!values.isEmpty()) {
      u.append("Sensor values:\n");
      for (SensorCitation c : values) {
        u.append("- ").append(c.sensor()).append(" = ").append(number(c.value()));
        if (c.unit() != null) {
          u.append(' ').append(c.unit());
        }
        u.append(" (read ").append(c.ageMs() / 1000).append(" s ago");
        if (Boolean.TRUE.equals(c.stale())) {
          u.append(", stale");
        }
        u.append(")\n");
      }
      u.append('\n');
    }
    return u.append("Question: ").append(question).toString();
  }

  private static String number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15
        ? Long.toString((long) v)
        : String.format(Locale.ROOT, "%s", v);
  }

  @Override
  public Answered ask(String question, List<SensorCitation> values, Duration timeout)
      throws Failure, InterruptedException {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(completions)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofByteArray(
                    body(question, values).toString().getBytes(StandardCharsets.UTF_8)));
    endpoint.apiKey().ifPresent(k -> req.header("Authorization", "Bearer " + k));
    HttpResponse<InputStream> resp;
    try {
      resp = client.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (HttpTimeoutException e) {
      throw new Failure(label() + " did not answer within " + timeout.toMillis() + " ms", true, e);
    } catch (IOException e) {
      throw new Failure(label() + " could not be reached: " + e.getMessage(), false, e);
    }
    byte[] bytes;
    try (InputStream in = resp.body()) {
      bytes = in.readNBytes(MAX_RESPONSE_BYTES + 1);
    } catch (IOException e) {
      throw new Failure(label() + " broke off its answer: " + e.getMessage(), false, e);
    }
    if (bytes.length > MAX_RESPONSE_BYTES) {
      throw new Failure(
          label() + " sent more than " + MAX_RESPONSE_BYTES + " bytes; not read", false, null);
    }
    String text = new String(bytes, StandardCharsets.UTF_8);
    if (resp.statusCode() / 100 != 2) {
      throw new Failure(
          label() + " answered HTTP " + resp.statusCode() + ": " + bounded(text), false, null);
    }
    JsonNode tree;
    try {
      tree = MAPPER.readTree(text);
    } catch (IOException e) {
      throw new Failure(label() + " answered something that is not JSON", false, e);
    }
    String content = tree.path("choices").path(0).path("message").path("content").asText("");
    content = content.replaceAll("(?s)<think>.*?</think>", "").strip();
    if (content.isBlank()) {
      throw new Failure(label() + " answered with an empty text", false, null);
    }
    int tokens = Math.max(0, tree.path("usage").path("completion_tokens").asInt(0));
    return new Answered(content, values, Source.MODEL, Optional.of(identity), tokens);
  }

  private static String bounded(String s) {
    String one = s.replaceAll("\\s+", " ").strip();
    return one.length() <= MAX_ERROR_CHARS ? one : one.substring(0, MAX_ERROR_CHARS - 1) + "…";
  }
}
