package io.edgeslm.agent.internal.qa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.agent.internal.mqtt.MqttTransport;
import io.edgeslm.agent.internal.mqtt.OutboundMessage;
import io.edgeslm.mqtt.Backoff;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.ReplyNamespace;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.MqttBroker;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Q&A service and the transport against a real private Mosquitto: a full queue answers "busy"
 * with a retry hint at once while admitted questions still get their answers, and the transport's
 * own in-flight window carries a burst of QoS 1 publishes with none refused.
 */
class QuestionServiceIT {

  private static MqttBroker broker;

  @BeforeAll
  static void start() throws Exception {
    broker = MqttBroker.privateMosquitto();
  }

  @AfterAll
  static void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  static MqttTransport transport(String id, int maxInflight) throws Exception {
    return new MqttTransport(
        new MqttTransport.Settings(
            broker.url(),
            id,
            Optional.empty(),
            Optional.empty(),
            null,
            Duration.ofSeconds(30),
            Duration.ofSeconds(10),
            new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)),
            maxInflight,
            256,
            "qs/" + id + "/status",
            "{}".getBytes(StandardCharsets.UTF_8),
            Duration.ofSeconds(5)));
  }

  /**
   * Starts both and waits until {@code subscriber}'s subscriptions are acknowledged. {@code
   * isConnected()} turns true at CONNACK, before SUBACK: a test that publishes then loses the first
   * messages (seen in CI).
   */
  static void startSubscribed(MqttTransport publisher, MqttTransport subscriber) throws Exception {
    CountDownLatch subscribed = new CountDownLatch(1);
    subscriber.addListener(firstTime -> subscribed.countDown());
    publisher.start();
    subscriber.start();
    assertThat(subscribed.await(30, TimeUnit.SECONDS))
        .as("subscriptions acknowledged within 30 s")
        .isTrue();
    await().atMost(Duration.ofSeconds(30)).until(publisher::isConnected);
  }

  static InboundMessage question(String id, String replyTo) {
    return new InboundMessage(
        "qs/ask",
        ("{\"id\":\"" + id + "\",\"replyTo\":\"" + replyTo + "\",\"question\":\"Oil?\"}")
            .getBytes(StandardCharsets.UTF_8),
        1,
        false,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        List.of(),
        System.nanoTime());
  }

  @Test
  void streamedModelText_withEveryControlCharacter_arrivesWhole_partsJoinUpToTheAnswer()
      throws Exception {
    // Tokens as a random-weight model produces them: 300 of them, every C0 and C1 control
    // character among them, white space around the answer.
    List<String> tokens = new ArrayList<>();
    tokens.add("\n ");
    for (int i = 0; i < 300; i++) {
      char c = (char) (i % 2 == 0 ? i % 0x20 : 0x7f + i % 0x21);
      tokens.add(" w" + i + c);
    }
    tokens.add(" \n");
    StringBuilder raw = new StringBuilder();
    tokens.forEach(raw::append);
    Answerer model =
        (q, deadline, partial) -> {
          tokens.forEach(partial::accept);
          // The model answer is the task's cleaned text (io.edgeslm.inference.OperatorQaTask).
          return new Answerer.Outcome(
              io.edgeslm.protocol.Protocol.sanitizeText(raw.toString()).strip(),
              List.of(),
              Source.RULES,
              Optional.empty(),
              Optional.empty(),
              tokens.size());
        };
    BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    try (MqttTransport agent = transport("qs-agent-cc", 16);
        MqttTransport asker = transport("qs-asker-cc", 16)) {
      asker.subscribe("operator/qs/cc", 1, m -> replies.add(Json.read(m.payload(), Reply.class)));
      startSubscribed(agent, asker);
      try (QuestionService service =
          new QuestionService(
              agent,
              model,
              new QuestionIntake.Limits(8192, 1000, Duration.ofSeconds(60)),
              ReplyNamespace.of(Topics.node("s", "n"), List.of("operator/")),
              2,
              1,
              Clock.systemUTC())) {
        service.onMessage(
            new InboundMessage(
                "qs/ask",
                "{\"id\":\"cc\",\"replyTo\":\"operator/qs/cc\",\"question\":\"Oil?\",\"stream\":true}"
                    .getBytes(StandardCharsets.UTF_8),
                1,
                false,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                List.of(),
                System.nanoTime()));
        StringBuilder joined = new StringBuilder();
        List<Integer> seqs = new ArrayList<>();
        Answer answer = null;
        while (answer == null) {
          Reply r = replies.poll(30, TimeUnit.SECONDS);
          assertThat(r).as("a reply within 30 s").isNotNull();
          if (r instanceof io.edgeslm.protocol.AnswerPart p) {
            seqs.add(p.seq());
            joined.append(p.text());
          } else {
            answer = (Answer) r;
          }
        }
        assertThat(seqs).hasSize(300);
        assertThat(seqs).isEqualTo(java.util.stream.IntStream.range(0, 300).boxed().toList());
        assertThat(answer.parts()).isEqualTo(300);
        assertThat(joined.toString()).isEqualTo(answer.answer());
        assertThat(answer.answer()).startsWith("w0\uFFFD w1\uFFFD w2\uFFFD").endsWith("w299\uFFFD");
        assertThat(answer.answer()).contains(" w9\uFFFD w10\n w11\uFFFD");
      }
    }
  }

  @Test
  void fullQueue_repliesBusyWithRetryHint_admittedQuestionsStillAnswered() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    Answerer slow =
        (q, deadline, partial) -> {
          started.incrementAndGet();
          try {
            release.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          partial.accept("ignored: not streamed");
          return new Answerer.Outcome(
              "Oil is fine.", List.of(), Source.RULES, Optional.empty(), Optional.empty(), 0);
        };
    BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    try (MqttTransport agent = transport("qs-agent", 8);
        MqttTransport asker = transport("qs-asker", 8)) {
      asker.subscribe(
          "operator/qs/replies", 1, m -> replies.add(Json.read(m.payload(), Reply.class)));
      startSubscribed(agent, asker);
      try (QuestionService service =
          new QuestionService(
              agent,
              slow,
              new QuestionIntake.Limits(8192, 1000, Duration.ofSeconds(60)),
              ReplyNamespace.of(Topics.node("s", "n"), List.of("operator/")),
              2,
              1,
              Clock.systemUTC())) {
        service.onMessage(question("a", "operator/qs/replies"));
        service.onMessage(question("b", "operator/qs/replies"));
        service.onMessage(question("c", "operator/qs/replies"));

        Reply first = replies.poll(30, TimeUnit.SECONDS);
        assertThat(first).isInstanceOf(ErrorReply.class);
        ErrorReply busy = (ErrorReply) first;
        assertThat(busy.id()).isEqualTo("c");
        assertThat(busy.code()).isEqualTo(ErrorCode.BUSY);
        assertThat(busy.retryAfterMs()).isGreaterThanOrEqualTo(1000);
        assertThat(busy.message())
            .isEqualTo(
                "Busy: 2 questions are already waiting or being answered"
                    + " (edgeslm.agent.qa.queue). Ask again after the retry hint.");
        assertThat(service.depth()).isEqualTo(2);

        release.countDown();
        List<String> answered = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
          Reply r = replies.poll(30, TimeUnit.SECONDS);
          assertThat(r).isInstanceOf(Answer.class);
          answered.add(r.id());
        }
        assertThat(answered).containsExactly("a", "b");
        assertThat(service.busy()).isEqualTo(1);
        assertThat(service.answered()).isEqualTo(2);
        assertThat(replies).isEmpty();
      }
    }
  }

  @Test
  void burstOfQos1Publishes_staysInsideTheWindowAndAllArrive() throws Exception {
    int n = 300;
    BlockingQueue<InboundMessage> got = new LinkedBlockingQueue<>();
    try (MqttTransport sender = transport("qs-sender", 4);
        MqttTransport receiver = transport("qs-receiver", 4)) {
      receiver.subscribe("qs/burst", 1, got::add);
      startSubscribed(sender, receiver);
      List<java.util.concurrent.CompletableFuture<Void>> acks = new ArrayList<>();
      Thread[] threads = new Thread[4];
      List<java.util.concurrent.CompletableFuture<Void>> shared =
          java.util.Collections.synchronizedList(acks);
      AtomicInteger maxSeen = new AtomicInteger();
      for (int t = 0; t < threads.length; t++) {
        int base = t * (n / threads.length);
        threads[t] =
            new Thread(
                () -> {
                  for (int i = 0; i < n / threads.length; i++) {
                    shared.add(
                        sender.publish(
                            OutboundMessage.json(
                                "qs/burst",
                                Integer.toString(base + i).getBytes(StandardCharsets.UTF_8),
                                1,
                                false)));
                    maxSeen.accumulateAndGet(sender.inflight(), Math::max);
                  }
                });
        threads[t].start();
      }
      for (Thread t : threads) {
        t.join();
      }
      for (var f : acks) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertThat(sender.publishFailures()).isZero();
      assertThat(maxSeen.get()).isLessThanOrEqualTo(4);
      await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == n);
    }
  }
}
