package io.edgeslm.fleet.internal.ask;

import io.edgeslm.fleet.internal.mqtt.FleetMqtt;
import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConnection;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Forwards an operator's question to a node over MQTT 5 request/response (contract: the {@code ask}
 * channel of docs/asyncapi.yaml) and hands the streamed parts and the final reply to the caller as
 * they arrive. Replies come to this replica's own topic {@code fleet/v1/{clientId}/reply}, matched
 * by correlation data. At most {@value #MAX_PENDING} questions are open at once, and each buffers
 * at most {@value #MAX_BUFFERED_PARTS} parts its reader has not taken yet (further parts are
 * dropped: the final answer repeats the whole text, so nothing is lost but the early view).
 *
 * <p>Parts reach the reader in {@code seq} order, each once: replies are handled on one thread in
 * the order the broker delivered them, a part that comes early waits for the ones before it, and a
 * repeated one is dropped. A part that never comes is reported, not hidden: when the final answer
 * arrives (its {@code parts} says how many the node sent) the exchange's {@link #gap} names the
 * missing seq numbers.
 */
public final class AskService {

  public static final int MAX_PENDING = 256;

  public static final int MAX_BUFFERED_PARTS = 1024;

  /** At most this many missing seq numbers are listed in a {@link Gap}; all are counted. */
  public static final int MAX_LISTED_MISSING = 1000;

  /**
   * The parts of a streamed answer that did not reach the reader.
   *
   * @param missing the missing seq numbers, ascending (at most {@value #MAX_LISTED_MISSING})
   * @param count how many are missing in all
   */
  public record Gap(List<Integer> missing, long count) {
    public boolean isEmpty() {
      return count == 0;
    }
  }

  /**
   * What came back.
   *
   * @param id the question id
   * @param parts streamed text parts in order
   * @param missingParts seq numbers of parts that did not arrive (empty when all did)
   * @param answer the final answer, or null
   * @param error the node's error, or null
   */
  public record AskResult(
      String id, List<String> parts, List<Integer> missingParts, Answer answer, ErrorReply error) {}

  /** The node went offline (its status or last will said so) before it answered. */
  public static final class NodeOfflineException extends Exception {
    NodeOfflineException(String message) {
      super(message);
    }
  }

  /**
   * Tells the open questions to {@code nodeId} that the node went offline, so they end now instead
   * of at their deadline. Called by the registry ingest for every offline status.
   */
  public void nodeOffline(String nodeId, String reason) {
    for (Exchange x : pending.values()) {
      if (x.nodeId.equals(nodeId)) {
        x.offline = reason == null ? "offline" : reason;
      }
    }
  }

  /** The controller cannot take another question now; retry after a few seconds. */
  public static final class TooManyQuestionsException extends Exception {
    TooManyQuestionsException(String message) {
      super(message);
    }
  }

  /**
   * One open question. Read its replies with {@link #next}; close it when done (also on failure),
   * which forgets it, so late replies are dropped.
   */
  public final class Exchange implements AutoCloseable {
    private final String id;
    private final String nodeId;
    private volatile String offline;
    private final Instant deadline;
    // Parts plus room for the final reply, which is never dropped.
    private final BlockingQueue<Reply> replies = new ArrayBlockingQueue<>(MAX_BUFFERED_PARTS + 1);
    private final CompletableFuture<Void> sent;
    // Guarded by this.
    private final ReplySequencer sequencer =
        new ReplySequencer(MAX_BUFFERED_PARTS, MAX_LISTED_MISSING);

    private Exchange(String id, String nodeId, Instant deadline, CompletableFuture<Void> sent) {
      this.id = id;
      this.nodeId = nodeId;
      this.deadline = deadline;
      this.sent = sent;
    }

    public String id() {
      return id;
    }

    public Instant deadline() {
      return deadline;
    }

    /**
     * The next reply: an {@link AnswerPart}, then finally an {@link Answer} or {@link ErrorReply}.
     *
     * @param until wait at most until this instant (capped at the question's deadline)
     * @return the reply, or null if none came by {@code until} or the node went offline (see {@link
     *     #offlineReason})
     * @throws IllegalStateException if the question could not be published to the broker
     */
    public Reply next(Instant until) throws InterruptedException {
      Instant end = until.isAfter(deadline) ? deadline : until;
      while (true) {
        if (sent.isCompletedExceptionally()) {
          Throwable cause = sent.exceptionNow();
          throw new IllegalStateException(
              "The question could not be published to the broker ("
                  + cause.getMessage()
                  + "). Check the controller's MQTT connection (GET /q/health/ready) and ask"
                  + " again.",
              cause);
        }
        if (offline != null && replies.isEmpty()) {
          return null;
        }
        long left = Duration.between(clock.instant(), end).toMillis();
        if (left <= 0) {
          return replies.poll();
        }
        // Wake up at least every second to notice a failed publish.
        Reply r = replies.poll(Math.min(left, 1000), TimeUnit.MILLISECONDS);
        if (r != null) {
          return r;
        }
      }
    }

    /** Why the node went offline while the question was open, or null if it did not. */
    public String offlineReason() {
      return offline;
    }

    /** Whether the question's deadline has passed. */
    public boolean expired() {
      return !clock.instant().isBefore(deadline);
    }

    /**
     * The parts this question is missing, known once its final reply came: seq numbers the node
     * published (by the answer's {@code parts} count, or a later part) that never arrived, or that
     * were dropped because the reader fell {@value #MAX_BUFFERED_PARTS} parts behind.
     */
    public synchronized Gap gap() {
      return sequencer.gap();
    }

    private synchronized void accept(Reply r) {
      for (Reply out : sequencer.accept(r)) {
        // The final reply always fits: the queue keeps one place for it.
        if (out instanceof AnswerPart p && replies.size() >= MAX_BUFFERED_PARTS) {
          droppedParts.incrementAndGet();
          sequencer.lost(p.seq());
        } else {
          replies.offer(out);
        }
      }
    }

    @Override
    public void close() {
      pending.remove(id);
    }
  }

  private final MqttConnection mqtt;
  private final String replyTopic;
  private final Clock clock;
  private final Map<String, Exchange> pending = new ConcurrentHashMap<>();
  private final AtomicLong droppedParts = new AtomicLong();

  public AskService(MqttConnection mqtt, String clientId, Clock clock) {
    this.mqtt = mqtt;
    this.replyTopic = "fleet/v1/" + clientId + "/reply";
    this.clock = clock;
    // The layer hands messages to one worker thread in delivery order: a streamed answer's parts
    // do not overtake each other.
    mqtt.subscribe(replyTopic, 1, this::onReply);
  }

  /** Parts dropped because a reader fell {@value #MAX_BUFFERED_PARTS} parts behind. */
  public long droppedParts() {
    return droppedParts.get();
  }

  /** Questions open now. */
  public int open() {
    return pending.size();
  }

  /**
   * Publishes a streamed question and returns the open exchange; the node's replies are queued for
   * {@link Exchange#next}. The question carries {@code expiresAt} and MQTT message expiry, so a
   * node that comes back after the deadline does not answer it.
   *
   * @throws TooManyQuestionsException if {@value #MAX_PENDING} questions are open already
   */
  public Exchange open(NodeTopics node, String text, Duration timeout)
      throws TooManyQuestionsException {
    if (pending.size() >= MAX_PENDING) {
      throw new TooManyQuestionsException(
          "The controller has "
              + MAX_PENDING
              + " questions open, its limit. Retry in a few seconds.");
    }
    String id = "fq-" + UUID.randomUUID();
    Instant deadline = clock.instant().plus(timeout);
    Question q = new Question(Protocol.SCHEMA_VERSION, id, text, null, true, deadline);
    CompletableFuture<Void> sent = new CompletableFuture<>();
    Exchange x = new Exchange(id, node.node(), deadline, sent);
    pending.put(id, x);
    // An MQTT 5 request: the node answers on the Response Topic with the Correlation Data, and
    // the Message Expiry keeps a node that comes back late from answering a stale question.
    mqtt.publish(
            FleetMqtt.json(node.ask(), Json.write(q), 1, false)
                .withResponse(replyTopic, id.getBytes(StandardCharsets.UTF_8))
                .withExpirySeconds(Math.max(1, timeout.toSeconds())))
        .whenComplete(
            (ok, e) -> {
              if (e != null) {
                sent.completeExceptionally(e);
              } else {
                sent.complete(null);
              }
            });
    return x;
  }

  /**
   * Asks and waits for the final reply.
   *
   * @throws TimeoutException if no final reply came within {@code timeout}
   * @throws NodeOfflineException if the node went offline before its final reply
   * @throws TooManyQuestionsException if too many questions are open
   * @throws IllegalStateException if the question could not be published
   */
  public AskResult ask(NodeTopics node, String text, Duration timeout)
      throws TimeoutException,
          InterruptedException,
          TooManyQuestionsException,
          NodeOfflineException {
    try (Exchange x = open(node, text, timeout)) {
      List<String> parts = new ArrayList<>();
      while (true) {
        Reply r = x.next(x.deadline());
        switch (r) {
          case null -> {
            if (x.offlineReason() != null) {
              throw new NodeOfflineException(x.offlineReason());
            }
            throw new TimeoutException("no final reply within " + timeout.toSeconds() + " s");
          }
          case AnswerPart p -> parts.add(p.text());
          case Answer a -> {
            return new AskResult(x.id(), List.copyOf(parts), x.gap().missing(), a, null);
          }
          case ErrorReply e -> {
            return new AskResult(x.id(), List.copyOf(parts), List.of(), null, e);
          }
        }
      }
    }
  }

  private void onReply(Message m) {
    byte[] corr = m.correlationData().orElse(null);
    Reply r;
    try {
      r = Json.read(m.payload(), Reply.class, 64 * 1024);
    } catch (InvalidPayloadException e) {
      return;
    }
    String id = corr != null ? new String(corr, StandardCharsets.UTF_8) : r.id();
    Exchange x = id == null ? null : pending.get(id);
    if (x != null) {
      x.accept(r);
    }
  }
}
