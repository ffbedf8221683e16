package io.edgeslm.fleet.internal.ask;

import io.edgeslm.fleet.internal.mqtt.MqttTransport;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.Reply;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * Forwards an operator's question to a node over MQTT 5 request/response (contract: the {@code ask}
 * channel of docs/asyncapi.yaml) and collects the streamed parts and the final reply. Replies come
 * to this replica's own topic {@code fleet/v1/{clientId}/reply}, matched by correlation data. At
 * most {@value #MAX_PENDING} questions are open at once.
 */
public final class AskService {

  public static final int MAX_PENDING = 256;

  /**
   * What came back.
   *
   * @param id the question id
   * @param parts streamed text parts in order
   * @param answer the final answer, or null
   * @param error the node's error, or null
   */
  public record AskResult(String id, List<String> parts, Answer answer, ErrorReply error) {}

  private record Pending(
      List<String> parts, Consumer<String> onPart, CompletableFuture<Reply> done) {}

  private final MqttTransport mqtt;
  private final String replyTopic;
  private final Clock clock;
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();

  public AskService(MqttTransport mqtt, String clientId, Clock clock) {
    this.mqtt = mqtt;
    this.replyTopic = "fleet/v1/" + clientId + "/reply";
    this.clock = clock;
    mqtt.subscribe(replyTopic, 1, this::onReply);
  }

  /**
   * Asks and waits for the final reply.
   *
   * @param onPart called with each streamed part as it arrives (may be a no-op)
   * @throws TimeoutException if no final reply came within {@code timeout}
   * @throws IllegalStateException if too many questions are open
   */
  public AskResult ask(NodeTopics node, String text, Duration timeout, Consumer<String> onPart)
      throws TimeoutException, InterruptedException {
    if (pending.size() >= MAX_PENDING) {
      throw new IllegalStateException(
          "Too many questions are open (" + MAX_PENDING + "). Retry in a few seconds.");
    }
    String id = "fq-" + UUID.randomUUID();
    Question q =
        new Question(Protocol.SCHEMA_VERSION, id, text, null, true, clock.instant().plus(timeout));
    Pending p = new Pending(new ArrayList<>(), onPart, new CompletableFuture<>());
    pending.put(id, p);
    try {
      mqtt.publishRequest(
          node.ask(),
          Json.write(q),
          replyTopic,
          id.getBytes(StandardCharsets.UTF_8),
          Math.max(1, timeout.toSeconds()));
      Reply r = p.done().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      synchronized (p) {
        return new AskResult(
            id,
            List.copyOf(p.parts()),
            r instanceof Answer a ? a : null,
            r instanceof ErrorReply e ? e : null);
      }
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("the question could not be sent: " + e.getCause(), e);
    } finally {
      pending.remove(id);
    }
  }

  private void onReply(String topic, MqttMessage m) {
    byte[] corr = m.getProperties() == null ? null : m.getProperties().getCorrelationData();
    Reply r;
    try {
      r = Json.read(m.getPayload(), Reply.class, 64 * 1024);
    } catch (InvalidPayloadException e) {
      return;
    }
    String id = corr != null ? new String(corr, StandardCharsets.UTF_8) : r.id();
    Pending p = id == null ? null : pending.get(id);
    if (p == null) {
      return;
    }
    if (r instanceof AnswerPart part) {
      synchronized (p) {
        p.parts().add(part.text());
      }
      p.onPart().accept(part.text());
    } else {
      p.done().complete(r);
    }
  }
}
