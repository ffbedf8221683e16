package io.edgeslm.agent.internal.qa;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.agent.internal.mqtt.MqttTransport;
import io.edgeslm.agent.internal.mqtt.OutboundMessage;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.AnswerTimings;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.ReplyNamespace;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * Serves the ask topic: judges each message ({@link QuestionIntake}), admits at most {@code
 * capacity} questions at a time (one more gets {@code busy} with a retry hint), answers on worker
 * threads through an {@link Answerer}, and publishes the streamed parts and the final answer or
 * error on the reply route with the correlation data echoed.
 */
public final class QuestionService implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(QuestionService.class);

  /**
   * Replies expire at the broker after this long: an asker gone for a minute will not read them.
   */
  private static final long REPLY_EXPIRY_SECONDS = 60;

  private static final Duration MIN_RETRY = Duration.ofSeconds(1);

  private final MqttTransport transport;
  private final Answerer answerer;
  private final QuestionIntake.Limits limits;
  private final ReplyNamespace replies;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private final int capacity;
  private final Semaphore admitted;
  private final ExecutorService workers;
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong busy = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong forbidden = new AtomicLong();
  private final AtomicLong serviceNanosEwma = new AtomicLong(Duration.ofSeconds(2).toNanos());
  private final LatencyRecorder latency = new LatencyRecorder(512);
  private final AtomicInteger inProgress = new AtomicInteger();

  /**
   * @param transport publishes replies
   * @param answerer produces answers
   * @param limits size, length and default deadline
   * @param replies the topics answers may go to
   * @param capacity questions admitted at once (waiting or being answered)
   * @param threads worker threads
   * @param clock wall clock for deadlines and timestamps
   */
  public QuestionService(
      MqttTransport transport,
      Answerer answerer,
      QuestionIntake.Limits limits,
      ReplyNamespace replies,
      int capacity,
      int threads,
      Clock clock) {
    this.transport = Objects.requireNonNull(transport, "transport");
    this.answerer = Objects.requireNonNull(answerer, "answerer");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.replies = Objects.requireNonNull(replies, "replies");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.nanoTime = System::nanoTime;
    this.capacity = capacity;
    this.admitted = new Semaphore(capacity);
    AtomicInteger n = new AtomicInteger();
    // The queue is unbounded in type but bounded in fact: only holders of an admission permit
    // submit, so it never holds more than capacity tasks.
    this.workers =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "qa-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * The transport's handler for the ask topic; runs on the inbound thread, so it only admits.
   * Replies go out on the service's own transport.
   */
  public void onMessage(InboundMessage message) {
    onMessage(message, transport);
  }

  /**
   * A handler for the ask topic on another broker's connection, replying on that connection (with a
   * fleet broker, the controller asks there and operators on the local broker); queue, limits and
   * counters are shared.
   */
  public MqttTransport.MessageHandler replyingOn(MqttTransport via) {
    Objects.requireNonNull(via, "via");
    return message -> onMessage(message, via);
  }

  private void onMessage(InboundMessage message, MqttTransport via) {
    received.incrementAndGet();
    Instant now = clock.instant();
    QuestionIntake.Verdict verdict = QuestionIntake.judge(message, limits, replies, now);
    switch (verdict) {
      case QuestionIntake.Forbidden f -> {
        long n = forbidden.incrementAndGet();
        // An asker can repeat this at will: warn on the first and then every 1000th, so the log
        // stays bounded; the counter has them all. The reason quotes the topic bounded and escaped.
        if (n == 1 || n % 1000 == 0) {
          LOG.warnf(
              "Refused question %d with a forbidden reply topic; nothing was published: %s",
              n, f.reason());
        } else {
          LOG.debugf("Refused a question with a forbidden reply topic: %s", f.reason());
        }
      }
      case QuestionIntake.Dropped d -> {
        dropped.incrementAndGet();
        LOG.debugf("Dropped a message on %s: %s", message.topic(), d.reason());
      }
      case QuestionIntake.Refused r -> {
        refused.incrementAndGet();
        send(via, r.route(), r.error());
      }
      case QuestionIntake.Accepted a -> admit(via, a, message.receivedNanos());
    }
  }

  private void admit(MqttTransport via, QuestionIntake.Accepted accepted, long receivedNanos) {
    if (!admitted.tryAcquire()) {
      busy.incrementAndGet();
      send(
          via,
          accepted.route(),
          ErrorReply.busy(
              accepted.question().id(),
              "Busy: "
                  + capacity
                  + " questions are already waiting or being answered (edgeslm.agent.qa.queue)."
                  + " Ask again after the retry hint.",
              retryAfter().toMillis()));
      return;
    }
    try {
      workers.execute(() -> serve(via, accepted, receivedNanos));
    } catch (RejectedExecutionException e) {
      admitted.release(); // shutting down
    }
  }

  /**
   * Time until a slot is likely free: the typical service time times the queue ahead, per worker.
   */
  private Duration retryAfter() {
    long perQuestion = serviceNanosEwma.get();
    long waiting = Math.max(1, capacity - admitted.availablePermits());
    Duration d = Duration.ofNanos(perQuestion * waiting / Math.max(1, threads()));
    return d.compareTo(MIN_RETRY) < 0 ? MIN_RETRY : d;
  }

  private int threads() {
    return ((ThreadPoolExecutor) workers).getMaximumPoolSize();
  }

  private void serve(MqttTransport via, QuestionIntake.Accepted accepted, long receivedNanos) {
    inProgress.incrementAndGet();
    long start = nanoTime.getAsLong();
    String id = accepted.question().id();
    try {
      if (!clock.instant().isBefore(accepted.deadline())) {
        dropped.incrementAndGet();
        LOG.debugf("Question %s expired while queued", id);
        return;
      }
      PartStream parts = accepted.question().streamRequested() ? new PartStream(id) : null;
      Answerer.Outcome outcome =
          answerer.answer(
              accepted.question(),
              accepted.deadline(),
              text -> {
                if (parts != null) {
                  // Pieces come on the engine's delivery thread, the finish on this worker.
                  synchronized (parts) {
                    publishParts(via, accepted.route(), parts.add(text));
                  }
                }
              });
      long end = nanoTime.getAsLong();
      AnswerTimings timings =
          new AnswerTimings(
              millis(start - receivedNanos),
              outcome.firstTokenNanos().map(t -> millis(t - receivedNanos)).orElse(null),
              millis(end - receivedNanos),
              outcome.tokens());
      // Model text is untrusted: sanitized, never a reason to fail the answer.
      String text = Protocol.sanitizeText(outcome.text());
      if (text.length() > Answer.MAX_ANSWER_CHARS) {
        text = text.substring(0, Answer.MAX_ANSWER_CHARS - 1) + "…";
      }
      if (text.isBlank()) {
        text = "(no answer)";
      }
      Integer count = null;
      if (parts != null) {
        synchronized (parts) {
          PartStream.Finish finish = parts.finish(text);
          publishParts(via, accepted.route(), finish.parts());
          count = finish.count().orElse(null);
        }
      }
      List<io.edgeslm.protocol.SensorCitation> citations = outcome.citations();
      if (citations.size() > Answer.MAX_SENSORS) {
        citations = citations.subList(0, Answer.MAX_SENSORS);
      }
      send(
          via,
          accepted.route(),
          new Answer(
              Protocol.SCHEMA_VERSION,
              id,
              text,
              citations,
              outcome.source(),
              outcome.model().orElse(null),
              timings,
              clock.instant(),
              count,
              outcome.answeredBy(),
              outcome.escalation().orElse(null),
              outcome.adapter().orElse(null)));
      answered.incrementAndGet();
      latency.record(end - receivedNanos);
      serviceNanosEwma.updateAndGet(old -> (old * 7 + (end - start)) / 8);
    } catch (Answerer.Refusal r) {
      refused.incrementAndGet();
      if (r.code() == ErrorCode.BUSY) {
        busy.incrementAndGet();
      }
      String message =
          r.getMessage().length() > ErrorReply.MAX_MESSAGE_CHARS
              ? r.getMessage().substring(0, ErrorReply.MAX_MESSAGE_CHARS - 1) + "…"
              : r.getMessage();
      Long retry =
          r.code() == ErrorCode.BUSY
              ? r.retryAfter().orElse(retryAfter()).toMillis()
              : r.retryAfter().map(Duration::toMillis).orElse(null);
      send(
          via,
          accepted.route(),
          new ErrorReply(Protocol.SCHEMA_VERSION, id, r.code(), message, retry));
    } catch (RuntimeException e) {
      refused.incrementAndGet();
      LOG.errorf(e, "Answering question %s failed", id);
      send(
          via,
          accepted.route(),
          ErrorReply.of(
              id,
              ErrorCode.INTERNAL,
              "The node failed while answering ("
                  + e.getClass().getSimpleName()
                  + "). The node's"
                  + " log has the details; ask again or tell the node's operator."));
    } finally {
      inProgress.decrementAndGet();
      admitted.release();
    }
  }

  /**
   * Publishes {@code parts} in order; the stream's lock keeps one question's parts in seq order.
   */
  private void publishParts(MqttTransport via, QuestionIntake.Route route, List<AnswerPart> parts) {
    for (AnswerPart p : parts) {
      send(via, route, p);
    }
  }

  private static long millis(long nanos) {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nanos));
  }

  private void send(MqttTransport via, QuestionIntake.Route route, Reply reply) {
    OutboundMessage m =
        new OutboundMessage(
            route.topic(),
            Json.write(reply),
            1,
            false,
            route.correlationData(),
            java.util.Optional.of(REPLY_EXPIRY_SECONDS),
            java.util.Optional.of("application/json"),
            List.of(Map.entry("type", typeOf(reply))));
    via.publish(m)
        .whenComplete(
            (ok, err) -> {
              if (err != null) {
                LOG.debugf("Reply to %s not delivered: %s", route.topic(), err.getMessage());
              }
            });
  }

  private static String typeOf(Reply reply) {
    return switch (reply) {
      case AnswerPart p -> "part";
      case Answer a -> "answer";
      case ErrorReply e -> "error";
    };
  }

  public long received() {
    return received.get();
  }

  public long answered() {
    return answered.get();
  }

  public long refused() {
    return refused.get();
  }

  public long busy() {
    return busy.get();
  }

  public long dropped() {
    return dropped.get();
  }

  /** Questions refused because their reply topic is outside the reply namespace. */
  public long forbiddenReplyTopics() {
    return forbidden.get();
  }

  /** Questions admitted and not finished (waiting or being answered). */
  public int depth() {
    return capacity - admitted.availablePermits();
  }

  /** 95th percentile of arrival-to-final-answer time over recent answers, if any. */
  public java.util.Optional<Duration> p95() {
    return latency.percentile(0.95);
  }

  @Override
  public void close() {
    workers.shutdownNow();
  }
}
