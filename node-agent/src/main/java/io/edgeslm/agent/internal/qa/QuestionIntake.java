package io.edgeslm.agent.internal.qa;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.ReplyNamespace;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides what to do with one message on the ask topic, before any work is queued: accept it,
 * refuse it with an error reply, or drop it. Pure: the current time is a parameter.
 *
 * <p>Order of checks, each with its own answer: a reply topic outside the node's {@link
 * ReplyNamespace} (forbidden: nothing is published, so an asker cannot steer the node's answer onto
 * its own control or telemetry topics); no way to reply at all (dropped: nobody listens); payload
 * over the size limit, not UTF-8, not JSON, or breaking a field rule (error reply to whatever reply
 * route could be read); past its MQTT 5 expiry or its {@code expiresAt} (dropped, the asker has
 * given up); question longer than the node's limit (error reply {@code invalid}).
 */
public final class QuestionIntake {

  /**
   * Where replies go.
   *
   * @param topic the MQTT 5 response topic or the payload's {@code replyTo}
   * @param correlationData echoed MQTT 5 correlation data, if the question had any
   * @param id the question's {@code id}, echoed in every reply, if any
   */
  public record Route(String topic, Optional<byte[]> correlationData, Optional<String> id) {
    public Route {
      Objects.requireNonNull(topic, "topic");
      Objects.requireNonNull(correlationData, "correlationData");
      Objects.requireNonNull(id, "id");
    }
  }

  /** The verdict on one message. */
  public sealed interface Verdict permits Accepted, Refused, Dropped, Forbidden {}

  /**
   * Queue it.
   *
   * @param question the validated question
   * @param route where replies go
   * @param deadline when the asker stops waiting
   */
  public record Accepted(Question question, Route route, Instant deadline) implements Verdict {}

  /**
   * Answer with an error.
   *
   * @param route where the error goes
   * @param error the error
   */
  public record Refused(Route route, ErrorReply error) implements Verdict {}

  /**
   * Nothing to send.
   *
   * @param reason for the log and the dropped-questions counter
   */
  public record Dropped(String reason) implements Verdict {}

  /**
   * Nothing to send: the question names a reply topic outside the reply namespace.
   *
   * @param reason which topic and rule, bounded and escaped (safe to log)
   */
  public record Forbidden(String reason) implements Verdict {}

  /**
   * Limits from the configuration.
   *
   * @param maxPayloadBytes largest payload
   * @param maxQuestionChars longest question text
   * @param defaultTimeout deadline of a question without an expiry of its own
   */
  public record Limits(int maxPayloadBytes, int maxQuestionChars, Duration defaultTimeout) {}

  private QuestionIntake() {}

  /**
   * Judges {@code message}.
   *
   * @param message as received on the ask topic
   * @param limits the node's limits
   * @param replies where this node may publish answers
   * @param now the current time
   */
  public static Verdict judge(
      InboundMessage message, Limits limits, ReplyNamespace replies, Instant now) {
    Optional<String> responseTopic = message.responseTopic();
    if (responseTopic.isPresent()) {
      Optional<String> refusal = replies.refusal(responseTopic.get());
      if (refusal.isPresent()) {
        return new Forbidden("Response Topic: " + refusal.get());
      }
    }
    Optional<Long> expiry = message.messageExpirySeconds();
    JsonNode tree;
    try {
      tree = Json.readTree(message.payload(), "Question", limits.maxPayloadBytes());
    } catch (InvalidPayloadException e) {
      return responseTopic
          .<Verdict>map(
              t ->
                  new Refused(
                      new Route(t, message.correlationData(), Optional.empty()), e.toReply(null)))
          .orElseGet(
              () -> new Dropped("unreadable question without a response topic: " + e.getMessage()));
    }
    // Salvage a reply route from a tree that may still fail validation, so that a 3.1.1 client
    // learns what was wrong with its question instead of waiting for nothing.
    Optional<String> rawId = text(tree, "id").filter(QuestionIntake::isId);
    Optional<String> replyTo = responseTopic.isPresent() ? Optional.empty() : text(tree, "replyTo");
    if (replyTo.isPresent()) {
      Optional<String> refusal = replies.refusal(replyTo.get());
      if (refusal.isPresent()) {
        return new Forbidden("replyTo: " + refusal.get());
      }
    }
    Optional<Route> route =
        responseTopic
            .map(t -> new Route(t, message.correlationData(), rawId))
            .or(() -> replyTo.map(t -> new Route(t, Optional.empty(), rawId)));
    Question question;
    try {
      question = Json.convert(tree, Question.class);
    } catch (InvalidPayloadException e) {
      return route
          .<Verdict>map(r -> new Refused(r, e.toReply(r.id().orElse(null))))
          .orElseGet(
              () -> new Dropped("invalid question without a reply route: " + e.getMessage()));
    }
    if (route.isEmpty()) {
      return new Dropped(
          "question without a response topic or replyTo; nobody would get the answer");
    }
    Route r = route.get();
    Instant deadline = now.plus(limits.defaultTimeout());
    if (expiry.isPresent()) {
      // The broker forwards the time left (MQTT 5 section 3.3.2.3.3); 0 means it expired in flight.
      if (expiry.get() <= 0) {
        return new Dropped("question expired in transit");
      }
      Instant byExpiry = now.plusSeconds(expiry.get());
      deadline = byExpiry.isBefore(deadline) ? byExpiry : deadline;
    }
    if (question.expiresAt() != null) {
      if (!question.expiresAt().isAfter(now)) {
        return new Dropped("question expired at " + question.expiresAt());
      }
      deadline = question.expiresAt().isBefore(deadline) ? question.expiresAt() : deadline;
    }
    int chars = question.question().codePointCount(0, question.question().length());
    if (chars > limits.maxQuestionChars()) {
      return new Refused(
          r,
          ErrorReply.of(
              question.id(),
              ErrorCode.INVALID,
              "Question: the question has "
                  + chars
                  + " characters, more than this node's limit of "
                  + limits.maxQuestionChars()
                  + ". Ask a shorter question."));
    }
    return new Accepted(question, r, deadline);
  }

  private static Optional<String> text(JsonNode tree, String field) {
    JsonNode n = tree.isObject() ? tree.get(field) : null;
    return n != null && n.isTextual() ? Optional.of(n.textValue()) : Optional.empty();
  }

  /** The protocol's identifier rule for {@code id}, so that an echoed id is always valid. */
  private static final java.util.regex.Pattern ID =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]*");

  private static boolean isId(String id) {
    return id.length() <= Question.MAX_ID_CHARS && ID.matcher(id).matches();
  }
}
