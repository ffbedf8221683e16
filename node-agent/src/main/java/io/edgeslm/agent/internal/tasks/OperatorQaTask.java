package io.edgeslm.agent.internal.tasks;

import io.edgeslm.inference.EngineUnavailableException;
import io.edgeslm.inference.FinishReason;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.InferenceEngine;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.InvalidOutputException;
import io.edgeslm.inference.Priority;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.TokenListener;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerTimings;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Source;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Operator Q&amp;A grounded in the node's live sensor values.
 *
 * <p>The prompt carries the node's sensors (up to {@link Answer#MAX_SENSORS}) whatever the
 * question, in an order that does not depend on it, so that the engine's prompt cache holds all but
 * the question for the next one ({@link QaPrompt}); when the context budget ({@link
 * TaskLimits#contextTokens()}, counted with the model's tokenizer) cannot hold them all, the
 * sensors the question names (by id or alias, see {@link #relevantSensors}) are kept first. The
 * answer cites the named sensors, or every sensor given when the question names none. The model
 * answers through its own chat template with stop strings and a bounded length. Without a model, or
 * when the model cannot answer (busy, down, late, empty output), a deterministic answer is built
 * from the same values ({@link RuleAnswer}): "Press 3 oil temperature is 71.2 °C, normal 40–80,
 * read 2 s ago.", or that the named machine has no sensor for what was asked, or which sensors are
 * out of range.
 */
public final class OperatorQaTask {
  static final List<String> STOP_STRINGS = List.of("\nQuestion:", "\nOperator:", "\n\n\n");

  /** The engine slot Q&amp;A requests reuse (its KV cache keeps the prompt's stable part). */
  static final int QA_CACHE_SLOT = 0;

  private static final int MAX_SNAPSHOT = 1024;
  private static final int MAX_NOTES_CHARS = 4000;

  private final Scheduler scheduler;
  private final ModelRef model;
  private final TaskLimits limits;
  private final Clock clock;

  private OperatorQaTask(Scheduler scheduler, ModelRef model, TaskLimits limits, Clock clock) {
    this.scheduler = scheduler;
    this.model = model;
    this.limits = Objects.requireNonNull(limits, "limits");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Deterministic answers only ({@code source: rules}). */
  public static OperatorQaTask rulesOnly(Clock clock) {
    return new OperatorQaTask(null, null, TaskLimits.qaDefaults(), clock);
  }

  /** Answers from the model behind {@code scheduler} (interactive priority). */
  public static OperatorQaTask withModel(
      Scheduler scheduler, ModelRef model, TaskLimits limits, Clock clock) {
    return new OperatorQaTask(
        Objects.requireNonNull(scheduler, "scheduler"),
        Objects.requireNonNull(model, "model"),
        limits,
        clock);
  }

  /** The task a question is about: {@code ranges}, {@code sensor-values} or {@code other}. */
  public static final String TASK_RANGES = "ranges";

  /** A question about the values of sensors the node has. */
  public static final String TASK_SENSOR_VALUES = "sensor-values";

  /** A question that names none of the node's sensors and is not about ranges. */
  public static final String TASK_OTHER = "other";

  /** Every task name a question can be classified as. */
  public static final List<String> TASKS = List.of(TASK_SENSOR_VALUES, TASK_RANGES, TASK_OTHER);

  /**
   * What one answer produced, for the node's escalation policy.
   *
   * @param outcome the answer, and why the rules stood in if they did
   * @param task which of {@link #TASKS} the question was classified as
   * @param meanTokenProbability mean probability of the model's tokens, when the engine gave them
   * @param valid false when the model's answer was refused (empty) or cut off at the token bound
   * @param invalidReason why it was not valid, when it was not
   */
  public record QaResult(
      TaskOutcome<Answer> outcome,
      String task,
      java.util.OptionalDouble meanTokenProbability,
      boolean valid,
      Optional<String> invalidReason) {
    public QaResult {
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(task, "task");
      Objects.requireNonNull(meanTokenProbability, "meanTokenProbability");
      Objects.requireNonNull(invalidReason, "invalidReason");
    }
  }

  /** Classifies a question against the node's sensors (pure). */
  public static String classify(String question, List<SensorState> snapshot) {
    List<String> words = SensorMatcher.words(question);
    return classified(words, relevantSensors(words, snapshot));
  }

  /** {@link #classify} when the question's words and sensors are already known. */
  private static String classified(List<String> questionWords, List<SensorState> relevant) {
    if (RuleAnswer.isRangeQuestion(questionWords)) {
      return TASK_RANGES;
    }
    return relevant.isEmpty() ? TASK_OTHER : TASK_SENSOR_VALUES;
  }

  /** The sensors a question is about, best match first; empty if it names none. */
  public static List<SensorState> relevantSensors(String question, List<SensorState> snapshot) {
    return relevantSensors(SensorMatcher.words(question), snapshot);
  }

  private static List<SensorState> relevantSensors(
      List<String> questionWords, List<SensorState> snapshot) {
    return SensorMatcher.match(questionWords, snapshot).stream()
        .map(SensorMatcher.Match::sensor)
        .toList();
  }

  /**
   * Answers a question.
   *
   * @param questionId echoed in the answer, or null
   * @param question the operator's text, 1 to {@link Question#MAX_QUESTION_CHARS} characters
   * @param snapshot the node's latest sensor values, at most 1024
   * @param siteNotes optional free text about the site (at most 4000 characters), or null
   * @param stream receives the model's text as it is generated (not called for rule answers)
   * @throws IllegalArgumentException if the inputs break those bounds
   */
  public TaskOutcome<Answer> answer(
      String questionId,
      String question,
      List<SensorState> snapshot,
      String siteNotes,
      TokenListener stream) {
    return answerDetailed(questionId, question, snapshot, siteNotes, stream).outcome();
  }

  /** As {@link #answer}, with the classification, confidence and validity of the answer. */
  public QaResult answerDetailed(
      String questionId,
      String question,
      List<SensorState> snapshot,
      String siteNotes,
      TokenListener stream) {
    Objects.requireNonNull(question, "question");
    Objects.requireNonNull(snapshot, "snapshot");
    if (question.isBlank() || question.length() > Question.MAX_QUESTION_CHARS) {
      throw new IllegalArgumentException(
          "question must have 1.." + Question.MAX_QUESTION_CHARS + " characters");
    }
    if (snapshot.size() > MAX_SNAPSHOT) {
      throw new IllegalArgumentException(
          "At most " + MAX_SNAPSHOT + " sensors in a snapshot, got " + snapshot.size());
    }
    if (siteNotes != null && siteNotes.length() > MAX_NOTES_CHARS) {
      throw new IllegalArgumentException(
          "siteNotes may have at most " + MAX_NOTES_CHARS + " characters");
    }
    Instant start = clock.instant();
    // The question is split into words once, for the matcher and the classification.
    List<String> words = SensorMatcher.words(question);
    List<SensorState> relevant = relevantSensors(words, snapshot);
    String task = classified(words, relevant);
    java.util.OptionalDouble none = java.util.OptionalDouble.empty();
    if (scheduler == null) {
      return new QaResult(
          new TaskOutcome<>(
              rulesAnswer(questionId, question, relevant, snapshot, start), Optional.empty()),
          task,
          none,
          true,
          Optional.empty());
    }
    try {
      ModelAnswer m =
          modelAnswer(questionId, question, relevant, snapshot, siteNotes, stream, start);
      Optional<String> invalid =
          m.finishReason() == FinishReason.LENGTH
              ? Optional.of(
                  "the model's answer was cut off at "
                      + limits.nPredict()
                      + " tokens (edgeslm.agent.model.answer-tokens)")
              : Optional.empty();
      return new QaResult(
          new TaskOutcome<>(m.answer(), Optional.empty()),
          task,
          m.meanTokenProbability(),
          invalid.isEmpty(),
          invalid);
    } catch (InferenceException e) {
      boolean invalid = e instanceof InvalidOutputException;
      return new QaResult(
          new TaskOutcome<>(
              rulesAnswer(questionId, question, relevant, snapshot, start),
              Optional.of(e.getClass().getSimpleName() + ": " + e.getMessage())),
          task,
          none,
          !invalid,
          invalid
              ? Optional.of("the model's answer was refused: " + e.getMessage())
              : Optional.empty());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new QaResult(
          new TaskOutcome<>(
              rulesAnswer(questionId, question, relevant, snapshot, start),
              Optional.of("Interrupted")),
          task,
          none,
          true,
          Optional.empty());
    }
  }

  private record ModelAnswer(
      Answer answer, FinishReason finishReason, java.util.OptionalDouble meanTokenProbability) {}

  private ModelAnswer modelAnswer(
      String questionId,
      String question,
      List<SensorState> relevant,
      List<SensorState> snapshot,
      String siteNotes,
      TokenListener stream,
      Instant start)
      throws InferenceException, InterruptedException {
    InferenceEngine engine = scheduler.engine();
    if (engine == null) {
      throw new EngineUnavailableException("No model is loaded (a model swap is in progress).");
    }
    QaPrompt.Layout layout =
        QaPrompt.layout(
            question,
            relevant,
            snapshot,
            siteNotes,
            start,
            limits.contextTokens(),
            text -> count(engine, text));
    List<SensorState> cited = layout.cited();
    GenerationRequest request =
        GenerationRequest.ofChat(layout.messages(), limits.nPredict())
            .withSampling(limits.temperature(), limits.seed())
            .withStopStrings(STOP_STRINGS)
            // Every question asks for slot 0, whose KV cache then holds the stable prefix.
            .withCacheSlot(QA_CACHE_SLOT);
    GenerationResult r =
        scheduler.submit(request, Priority.INTERACTIVE, limits.deadline(), stream).await();
    String text = clean(r.text());
    if (text.isBlank()) {
      throw new InvalidOutputException("The model's answer was empty", List.of("empty answer"));
    }
    Instant end = clock.instant();
    long queueMs = r.timings().queued().toMillis();
    Answer answer =
        new Answer(
            Protocol.SCHEMA_VERSION,
            questionId,
            text.length() > Answer.MAX_ANSWER_CHARS
                ? text.substring(0, Answer.MAX_ANSWER_CHARS)
                : text,
            citations(cited, end),
            Source.MODEL,
            model,
            new AnswerTimings(
                queueMs,
                r.generatedTokens() == 0
                    ? null
                    : queueMs + r.timings().timeToFirstToken().toMillis(),
                Math.max(0, Duration.between(start, end).toMillis()),
                r.generatedTokens()),
            end);
    return new ModelAnswer(answer, r.finishReason(), r.meanTokenProbability());
  }

  /** A token count remembered for the next question. */
  private record Counted(InferenceEngine engine, String text, int tokens) {}

  /** The last few counts: the catalogue and, on unchanged sensors, the value block repeat. */
  private final java.util.Deque<Counted> counted = new java.util.ArrayDeque<>();

  private static final int COUNTS_KEPT = 4;

  private int count(InferenceEngine engine, String text) throws InferenceException {
    synchronized (counted) {
      for (Counted c : counted) {
        if (c.engine() == engine && c.text().equals(text)) {
          return c.tokens();
        }
      }
    }
    int n = engine.countPromptTokens(GenerationRequest.ofPrompt(text, 1));
    synchronized (counted) {
      counted.addFirst(new Counted(engine, text, n));
      while (counted.size() > COUNTS_KEPT) {
        counted.removeLast();
      }
    }
    return n;
  }

  private Answer rulesAnswer(
      String questionId,
      String question,
      List<SensorState> relevant,
      List<SensorState> snapshot,
      Instant start) {
    RuleAnswer.Result r = RuleAnswer.answer(question, relevant, snapshot, start);
    Instant end = clock.instant();
    return new Answer(
        Protocol.SCHEMA_VERSION,
        questionId,
        r.text(),
        citations(r.cited(), end),
        Source.RULES,
        null,
        new AnswerTimings(0, null, Math.max(0, Duration.between(start, end).toMillis()), 0),
        end);
  }

  /**
   * "Press 3 oil temperature is 71.2 °C, normal 40–80, read 2 s ago"; a stale value is told in the
   * past tense with why it is stale: "Press 3 oil temperature was 71.2 °C, normal 40–80, read 5 min
   * ago; stale: edge node press-3 went offline (NDEATH)".
   */
  static String describe(SensorState s, Instant now) {
    StringBuilder b = new StringBuilder();
    b.append(s.displayName())
        .append(s.isStale() ? " was " : " is ")
        .append(Numbers.withUnit(s.value(), s.unit()));
    if (s.normal() != null) {
      b.append(", normal ").append(Numbers.range(s.normal().min(), s.normal().max()));
      if (s.value() > s.normal().max()) {
        b.append(" (above range)");
      } else if (s.value() < s.normal().min()) {
        b.append(" (below range)");
      }
    }
    b.append(", read ").append(Numbers.age(Duration.between(s.readAt(), now))).append(" ago");
    if (s.isStale()) {
      b.append("; stale: ").append(s.staleReason());
    }
    return b.toString();
  }

  private static List<SensorCitation> citations(List<SensorState> cited, Instant at) {
    List<SensorCitation> out = new ArrayList<>();
    for (SensorState s : cited) {
      out.add(
          new SensorCitation(
              s.sensor(),
              s.value(),
              s.unit(),
              Math.max(0, Duration.between(s.readAt(), at).toMillis()),
              s.isStale() ? Boolean.TRUE : null));
    }
    return out;
  }

  /**
   * Replaces control characters other than tab and line breaks with U+FFFD ({@link
   * Protocol#sanitizeText}: the model's text is kept, made fit for the wire) and strips surrounding
   * space. The node's streamed parts apply the same rule, so they join up to this text.
   */
  static String clean(String s) {
    return Protocol.sanitizeText(s).strip();
  }
}
