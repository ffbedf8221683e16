package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The scheduler in front of each real engine on the tiny model. */
@ParameterizedClass
@EnumSource(Backend.class)
class SchedulerIT {
  @Parameter Backend backend;
  Scheduler scheduler;

  Scheduler open(int slots, int queueCapacity) throws Exception {
    scheduler =
        Scheduler.open(
            backend.config(),
            ModelSpec.of(TestModels.tiny(), 2, 16384 * slots).withParallelSlots(slots),
            new SchedulerConfig(
                queueCapacity, 16000, Duration.ofSeconds(120), Duration.ofMinutes(5)));
    return scheduler;
  }

  @AfterEach
  void close() {
    if (scheduler != null) {
      scheduler.close();
    }
  }

  /**
   * A request that keeps a slot busy until cancelled: 16,000 tokens take the tiny model far longer
   * than any test step, so slots are held however slow the machine is.
   */
  static GenerationRequest blocker() {
    return GenerationRequest.ofPrompt("Keep going", 16000);
  }

  static Generation startBlocking(Scheduler s, Priority p) throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    Generation g = s.submit(blocker(), p, Duration.ofMinutes(2), t -> started.countDown());
    assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
    return g;
  }

  @Test
  void fiftyConcurrentRequests_areAllAnsweredOrExplicitlyRejected_noneLost() throws Exception {
    Scheduler s = open(2, 10);
    Generation b1 = startBlocking(s, Priority.BATCH);
    Generation b2 = startBlocking(s, Priority.BATCH);

    ExecutorService pool = Executors.newFixedThreadPool(50);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Object>> outcomes = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      int n = i;
      outcomes.add(
          pool.submit(
              () -> {
                go.await();
                try {
                  Priority p = n % 2 == 0 ? Priority.INTERACTIVE : Priority.BATCH;
                  return s.submit(
                      GenerationRequest.ofPrompt("Question " + n, 4), p, null, TokenListener.NONE);
                } catch (BusyException e) {
                  return e;
                }
              }));
    }
    go.countDown();
    List<Generation> admitted = new ArrayList<>();
    List<BusyException> rejected = new ArrayList<>();
    for (Future<Object> f : outcomes) {
      Object o = f.get(120, TimeUnit.SECONDS);
      if (o instanceof Generation g) {
        admitted.add(g);
      } else {
        rejected.add((BusyException) o);
      }
    }
    pool.shutdown();
    // Both slots are held, so at most the 10 queue places were free.
    assertThat(admitted).hasSize(10);
    assertThat(rejected).hasSize(40);
    assertThat(rejected)
        .allSatisfy(
            e -> {
              assertThat(e.retryAfter()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
              assertThat(e.getMessage())
                  .startsWith("The inference queue is full (10 of 10 waiting");
            });
    assertThat(s.metrics().queueDepth()).isEqualTo(10);

    b1.cancel();
    b2.cancel();
    for (Generation g : admitted) {
      GenerationResult r = g.result().get(120, TimeUnit.SECONDS);
      assertThat(r.generatedTokens()).isBetween(1, 4);
      assertThat(r.timings().queued()).isPositive();
    }
    SchedulerMetrics m = s.metrics();
    assertThat(m.rejectedBusy()).isEqualTo(40);
    assertThat(m.submitted()).isEqualTo(12);
    assertThat(m.completed()).isEqualTo(12);
    assertThat(m.cancelled()).isEqualTo(2);
    assertThat(m.queueDepth()).isZero();
    assertThat(m.running()).isZero();
    assertThat(m.ttftP95()).isGreaterThanOrEqualTo(m.ttftP50());
    assertThat(m.ttftP50()).isPositive();
  }

  @Test
  void deadline_cancelsARunningGeneration_andTheEngineServesOn() throws Exception {
    Scheduler s = open(1, 4);
    AtomicInteger tokens = new AtomicInteger();
    Generation g =
        s.submit(
            blocker(), Priority.INTERACTIVE, Duration.ofMillis(300), t -> tokens.incrementAndGet());

    assertThatThrownBy(g::await)
        .isInstanceOf(DeadlineExceededException.class)
        .hasMessageContaining("passed its deadline after")
        .satisfies(
            e -> assertThat(((DeadlineExceededException) e).generatedTokens()).isLessThan(16000));
    GenerationResult next =
        s.submit(GenerationRequest.ofPrompt("next", 3), Priority.INTERACTIVE, null, null).await();
    assertThat(next.generatedTokens()).isPositive();
    assertThat(s.metrics().deadlineExceeded()).isEqualTo(1);
  }

  @Test
  void deadline_inTheQueue_failsWithoutStarting() throws Exception {
    Scheduler s = open(1, 4);
    Generation blocking = startBlocking(s, Priority.BATCH);
    Generation waiting =
        s.submit(
            GenerationRequest.ofPrompt("late", 3),
            Priority.INTERACTIVE,
            Duration.ofMillis(200),
            null);

    assertThatThrownBy(waiting::await)
        .isInstanceOf(DeadlineExceededException.class)
        .hasMessageContaining("waited its whole deadline in the queue")
        .satisfies(e -> assertThat(((DeadlineExceededException) e).generatedTokens()).isZero());
    blocking.cancel();
  }

  @Test
  void interactive_overtakesQueuedBatch() throws Exception {
    Scheduler s = open(1, 8);
    Generation blocking = startBlocking(s, Priority.BATCH);
    List<String> order = new CopyOnWriteArrayList<>();
    CompletableFuture<GenerationResult> batch =
        s.submit(GenerationRequest.ofPrompt("batch", 2), Priority.BATCH, null, null)
            .result()
            .whenComplete((r, e) -> order.add("batch"));
    CompletableFuture<GenerationResult> interactive =
        s.submit(GenerationRequest.ofPrompt("interactive", 2), Priority.INTERACTIVE, null, null)
            .result()
            .whenComplete((r, e) -> order.add("interactive"));
    assertThat(s.metrics().queuedBatch()).isEqualTo(1);
    assertThat(s.metrics().queuedInteractive()).isEqualTo(1);

    blocking.cancel();
    CompletableFuture.allOf(batch, interactive).get(60, TimeUnit.SECONDS);
    assertThat(order).containsExactly("interactive", "batch");
  }

  @Test
  void admission_refusesContextOverflow_andOversizedNPredict_withBudgetMessages() throws Exception {
    Scheduler s = open(1, 4);
    String longPrompt = "pressure reading ".repeat(9000);

    assertThatThrownBy(
            () -> s.submit(GenerationRequest.ofPrompt(longPrompt, 100), Priority.BATCH, null, null))
        .isInstanceOf(RequestRejectedException.class)
        .hasMessageStartingWith("Context budget exceeded: the prompt has ")
        .hasMessageEndingWith(
            " > 16384 tokens of context per slot. Shorten the prompt or lower nPredict.");
    assertThatThrownBy(
            () -> s.submit(GenerationRequest.ofPrompt("x", 16001), Priority.BATCH, null, null))
        .isInstanceOf(RequestRejectedException.class)
        .hasMessage(
            "nPredict 16001 exceeds this scheduler's bound of 16000 tokens. Ask for fewer tokens.");
    assertThat(s.metrics().rejectedBudget()).isEqualTo(2);
  }

  @Test
  void cancel_queuedRequest_completesCancelledWithoutRunning() throws Exception {
    Scheduler s = open(1, 4);
    Generation blocking = startBlocking(s, Priority.BATCH);
    Generation queued = s.submit(GenerationRequest.ofPrompt("q", 3), Priority.BATCH, null, null);
    queued.cancel();
    GenerationResult r = queued.await();
    assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
    assertThat(r.generatedTokens()).isZero();
    blocking.cancel();
    assertThat(blocking.await().finishReason()).isEqualTo(FinishReason.CANCELLED);
  }
}
