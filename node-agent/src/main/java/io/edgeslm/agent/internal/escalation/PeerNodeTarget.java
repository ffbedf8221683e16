package io.edgeslm.agent.internal.escalation;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.agent.internal.mqtt.MqttTransport;
import io.edgeslm.agent.internal.mqtt.OutboundMessage;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Another node as the escalation target: the question goes to its ask topic on the local broker,
 * with a Response Topic inside that node's reply namespace, {@code
 * edge/v1/{site}/{peer}/answers/escalations/{this node}}, and random correlation data (also as
 * {@code id} and {@code replyTo} in the payload, for a plant broker that speaks MQTT 3.1.1). Only
 * that one reply topic is subscribed, and a reply is taken only for a question still waiting.
 */
public final class PeerNodeTarget implements EscalationTarget {

  private static final Logger LOG = Logger.getLogger(PeerNodeTarget.class);

  /** The peer's default {@code qa.max-payload-bytes}: a larger question would be refused. */
  static final int MAX_QUESTION_BYTES = 8192;

  private static final int MAX_REPLY_BYTES = 64 << 10;

  private final MqttTransport transport;
  private final EscalationSettings.Node peer;
  private final String askTopic;
  private final String replyTopic;
  private final Clock clock;
  private final Map<String, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();

  /**
   * @param transport the connection operators' questions arrive on (the local broker)
   * @param peer the node to ask
   * @param ownNodeId this node's id, the last level of the reply topic
   * @param clock for the question's {@code expiresAt}
   */
  public PeerNodeTarget(
      MqttTransport transport, EscalationSettings.Node peer, String ownNodeId, Clock clock) {
    this.transport = Objects.requireNonNull(transport, "transport");
    this.peer = Objects.requireNonNull(peer, "peer");
    this.clock = Objects.requireNonNull(clock, "clock");
    var topics = Topics.node(peer.site(), peer.nodeId());
    this.askTopic = topics.ask();
    this.replyTopic = topics.prefix() + "answers/escalations/" + ownNodeId;
  }

  /** The one topic this node reads the peer's answers on. */
  public String replyTopic() {
    return replyTopic;
  }

  /** Subscribes the reply topic; call before the connection starts (it is renewed on reconnect). */
  public void subscribe() {
    transport.subscribe(replyTopic, 1, this::onReply);
  }

  @Override
  public String label() {
    return peer.label();
  }

  /** Takes a reply for a waiting question; anything else is dropped. */
  void onReply(InboundMessage m) {
    Reply reply;
    try {
      reply = Json.read(m.payload(), Reply.class, MAX_REPLY_BYTES);
    } catch (InvalidPayloadException e) {
      LOG.debugf("Unreadable reply on %s: %s", replyTopic, e.getMessage());
      return;
    }
    String id =
        m.correlationData()
            .map(b -> new String(b, StandardCharsets.UTF_8))
            .orElse(
                switch (reply) {
                  case Answer a -> a.id();
                  case ErrorReply e -> e.id();
                  case AnswerPart p -> p.id();
                });
    if (id == null || reply instanceof AnswerPart) {
      return;
    }
    CompletableFuture<Reply> f = pending.get(id);
    if (f != null) {
      f.complete(reply);
    }
  }

  @Override
  public Answered ask(String question, List<SensorCitation> values, Duration timeout)
      throws Failure, InterruptedException {
    String id = "esc-" + UUID.randomUUID();
    byte[] payload = payload(id, question, values, timeout);
    CompletableFuture<Reply> answer = new CompletableFuture<>();
    pending.put(id, answer);
    try {
      long expiry = Math.max(1, (timeout.toMillis() + 999) / 1000);
      transport
          .publish(
              new OutboundMessage(
                  askTopic,
                  payload,
                  1,
                  false,
                  Optional.of(id.getBytes(StandardCharsets.UTF_8)),
                  Optional.of(expiry),
                  Optional.of("application/json"),
                  List.of(),
                  Optional.of(replyTopic)))
          .whenComplete(
              (ok, e) -> {
                if (e != null) {
                  answer.completeExceptionally(e);
                }
              });
      Reply r = answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return switch (r) {
        case Answer a ->
            new Answered(
                a.answer(),
                a.sensors(),
                a.source(),
                Optional.ofNullable(a.model()),
                a.timings().tokens());
        case ErrorReply e ->
            throw new Failure(
                peer.label()
                    + " refused the question ("
                    + e.code().wireName()
                    + "): "
                    + e.message(),
                false,
                null);
        case AnswerPart p -> throw new IllegalStateException("parts are not taken");
      };
    } catch (TimeoutException e) {
      throw new Failure(
          peer.label() + " did not answer within " + timeout.toMillis() + " ms", true, e);
    } catch (ExecutionException e) {
      throw new Failure(
          "the question could not be sent to " + peer.label() + ": " + e.getCause().getMessage(),
          false,
          e.getCause());
    } finally {
      pending.remove(id);
    }
  }

  /**
   * The question with as many of {@code values} as fit in the peer's default payload limit (the
   * first ones win; the policy chose them all, the size bound drops the rest).
   */
  private byte[] payload(
      String id, String question, List<SensorCitation> values, Duration timeout) {
    List<SensorCitation> sent =
        new ArrayList<>(values.subList(0, Math.min(values.size(), Question.MAX_CONTEXT)));
    while (true) {
      byte[] b =
          Json.write(
              new Question(
                  Protocol.SCHEMA_VERSION,
                  id,
                  question,
                  replyTopic,
                  null,
                  clock.instant().plus(timeout),
                  sent));
      if (b.length <= MAX_QUESTION_BYTES || sent.isEmpty()) {
        return b;
      }
      sent.removeLast();
    }
  }
}
