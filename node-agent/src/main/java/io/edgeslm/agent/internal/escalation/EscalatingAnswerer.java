package io.edgeslm.agent.internal.escalation;

import io.edgeslm.agent.internal.qa.Answerer;
import io.edgeslm.protocol.AnswerEscalation;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.SensorCitation;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The thin I/O shell around {@link EscalationDecision}: answers locally first, asks the pure
 * decision whether the question goes to the larger model and with which sensor values, and if so
 * asks the {@link EscalationTarget} within the timeout, the question's deadline and the bound on
 * escalations in flight. Whatever the target does, the operator gets an answer: the target's,
 * saying where it came from, or the local one with a note saying why the target's is missing. Every
 * escalation is logged (question id, trigger, target, which sensors went along, outcome) and
 * counted by trigger and outcome.
 */
public final class EscalatingAnswerer implements Answerer {

  private static final Logger LOG = Logger.getLogger(EscalatingAnswerer.class);

  /** Time kept back from the question's deadline to publish the answer. */
  static final Duration REPLY_MARGIN = Duration.ofMillis(500);

  /** How one escalation ended. */
  public enum Outcome {
    ANSWERED,
    FAILED,
    TIMEOUT,
    BUSY;

    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Answerer local;
  private final EscalationSettings settings;
  private final EscalationTarget target;
  private final Clock clock;
  private final Semaphore slots;
  private final Map<EscalationDecision.Trigger, Map<Outcome, AtomicLong>> counts =
      new EnumMap<>(EscalationDecision.Trigger.class);

  public EscalatingAnswerer(
      Answerer local, EscalationSettings settings, EscalationTarget target, Clock clock) {
    this.local = Objects.requireNonNull(local, "local");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.target = Objects.requireNonNull(target, "target");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.slots = new Semaphore(settings.maxConcurrent());
    for (EscalationDecision.Trigger t : EscalationDecision.Trigger.values()) {
      Map<Outcome, AtomicLong> m = new EnumMap<>(Outcome.class);
      for (Outcome o : Outcome.values()) {
        m.put(o, new AtomicLong());
      }
      counts.put(t, m);
    }
  }

  /** Escalations with {@code trigger} that ended in {@code outcome}, since start. */
  public long count(EscalationDecision.Trigger trigger, Outcome outcome) {
    return counts.get(trigger).get(outcome).get();
  }

  /** Escalations waiting for their target now. */
  public int inFlight() {
    return settings.maxConcurrent() - slots.availablePermits();
  }

  public String targetLabel() {
    return target.label();
  }

  @Override
  public Answerer.Outcome answer(Question question, Instant deadline, Consumer<String> partial)
      throws Refusal {
    Answerer.Outcome mine = local.answer(question, deadline, partial);
    List<SensorCitation> cited = mine.citations();
    EscalationDecision.Verdict verdict =
        EscalationDecision.decide(
            settings.policy(),
            question.question(),
            mine.stats(),
            cited.stream().map(SensorCitation::sensor).toList());
    if (!verdict.escalate()) {
      return mine;
    }
    EscalationDecision.Trigger trigger = verdict.trigger().orElseThrow();
    Set<String> allowed = Set.copyOf(verdict.sensors());
    List<SensorCitation> values = cited.stream().filter(c -> allowed.contains(c.sensor())).toList();
    String id = question.id() == null ? "-" : question.id();
    Duration left = Duration.between(clock.instant(), deadline).minus(REPLY_MARGIN);
    Duration timeout = left.compareTo(settings.timeout()) < 0 ? left : settings.timeout();
    if (timeout.isNegative() || timeout.isZero()) {
      return local(
          mine,
          trigger,
          Outcome.TIMEOUT,
          id,
          values,
          "no time was left before the question's deadline to ask "
              + target.label()
              + "; this is the node's own answer");
    }
    if (!slots.tryAcquire()) {
      return local(
          mine,
          trigger,
          Outcome.BUSY,
          id,
          values,
          settings.maxConcurrent()
              + " escalations were already waiting (edgeslm.agent.escalation.max-concurrent);"
              + " this is the node's own answer");
    }
    long start = System.nanoTime();
    try {
      EscalationTarget.Answered a = target.ask(question.question(), values, timeout);
      counted(trigger, Outcome.ANSWERED);
      LOG.infof(
          "Escalated question %s (%s) to %s with %d of %d cited sensor values %s: answered in %d"
              + " ms",
          id,
          tag(trigger),
          target.label(),
          values.size(),
          cited.size(),
          ids(values),
          (System.nanoTime() - start) / 1_000_000);
      return new Answerer.Outcome(
          a.text(),
          a.citations(),
          a.source(),
          a.model(),
          Optional.empty(),
          a.tokens(),
          mine.stats(),
          target.label(),
          Optional.of(new AnswerEscalation(tag(trigger), target.label(), null)));
    } catch (EscalationTarget.Failure f) {
      return local(
          mine,
          trigger,
          f.timedOut() ? Outcome.TIMEOUT : Outcome.FAILED,
          id,
          values,
          f.getMessage() + "; this is the node's own answer");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return local(
          mine, trigger, Outcome.FAILED, id, values, "interrupted; this is the node's own answer");
    } finally {
      slots.release();
    }
  }

  private Answerer.Outcome local(
      Answerer.Outcome mine,
      EscalationDecision.Trigger trigger,
      Outcome outcome,
      String id,
      List<SensorCitation> values,
      String note) {
    counted(trigger, outcome);
    LOG.warnf(
        "Escalation of question %s (%s) to %s: %s (%s; %d sensor values %s were meant to go along)",
        id, tag(trigger), target.label(), outcome.tag(), note, values.size(), ids(values));
    String bounded =
        note.length() <= AnswerEscalation.MAX_NOTE_CHARS
            ? note
            : note.substring(0, AnswerEscalation.MAX_NOTE_CHARS - 1) + "…";
    return new Answerer.Outcome(
        mine.text(),
        mine.citations(),
        mine.source(),
        mine.model(),
        mine.firstTokenNanos(),
        mine.tokens(),
        mine.stats(),
        Answerer.LOCAL,
        Optional.of(
            new AnswerEscalation(
                tag(trigger), target.label(), io.edgeslm.protocol.Protocol.sanitizeText(bounded))),
        mine.adapter()); // the node's own answer: its own base and adapter
  }

  private void counted(EscalationDecision.Trigger trigger, Outcome outcome) {
    counts.get(trigger).get(outcome).incrementAndGet();
  }

  /** The wire name of a trigger: {@code low_confidence}, {@code invalid_answer}, … */
  public static String tag(EscalationDecision.Trigger t) {
    return t.name().toLowerCase(Locale.ROOT);
  }

  private static String ids(List<SensorCitation> values) {
    return values.stream().map(SensorCitation::sensor).toList().toString();
  }
}
