package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;
import java.util.List;

/**
 * The final answer to a {@link Question} ({@code "type":"answer"}).
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param id the question's id, echoed; optional
 * @param answer the whole answer text, 1 to {@value #MAX_ANSWER_CHARS} characters
 * @param sensors the sensor values the answer was grounded in (at most {@value #MAX_SENSORS})
 * @param source {@code model} or {@code rules}
 * @param model the model that answered; required when {@code source} is {@code model}, absent
 *     otherwise
 * @param timings queue, first-token and total time, token count
 * @param answeredAt when the answer was complete
 * @param parts for a streamed question: how many {@link AnswerPart}s (seq 0 to parts - 1) the node
 *     published before this answer, whose texts joined in seq order are exactly {@code answer}, so
 *     a reader can tell whether it missed one; absent when the question was not streamed, or when
 *     this answer replaces the streamed text (the model failed part way and the rules answered)
 * @param answeredBy where the text came from: {@code local} (this node's model or rules), {@code
 *     node:<id>} (another node the question was escalated to) or {@code endpoint:<name>} (an
 *     OpenAI-compatible endpoint inside the plant); absent from senders that predate escalation,
 *     read as local
 * @param escalation present when the node tried to hand the question on: why, to whom, and, when
 *     the target did not answer, a note saying so (the answer is then the local one)
 * @param adapter the LoRA adapter that was applied on top of {@code model} for this answer; absent
 *     when the base model answered alone, and for rules
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Answer(
    @JsonProperty(required = true) int schemaVersion,
    String id,
    String answer,
    @JsonProperty(required = true) List<SensorCitation> sensors,
    Source source,
    ModelRef model,
    AnswerTimings timings,
    Instant answeredAt,
    Integer parts,
    String answeredBy,
    AnswerEscalation escalation,
    ModelRef adapter)
    implements Reply {

  private static final java.util.regex.Pattern ANSWERED_BY =
      java.util.regex.Pattern.compile("local|(node|endpoint):[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  /**
   * Checks an {@code answeredBy} value ({@code local}, {@code node:<id>}, {@code endpoint:<name>}).
   */
  static void checkAnsweredBy(String field, String value) {
    Checks.required(field, value);
    Checks.check(
        ANSWERED_BY.matcher(value).matches(),
        field
            + " must be local, node:<id> or endpoint:<name> (letters, digits, '.', '_', ':', '-'):"
            + " got "
            + Checks.quote(value)
            + ".");
  }

  /** Longest answer text. */
  public static final int MAX_ANSWER_CHARS = 16_384;

  /** Most cited sensor values. */
  public static final int MAX_SENSORS = 64;

  public Answer {
    Checks.schemaVersion("Answer", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.optionalIdentifier("id", id, Question.MAX_ID_CHARS);
    Checks.text("answer", answer, MAX_ANSWER_CHARS);
    sensors = Checks.list("sensors", sensors, MAX_SENSORS);
    Checks.required("source", source);
    Checks.check(
        (source == Source.MODEL) == (model != null),
        "model must be present exactly when source is 'model': got source="
            + Checks.quote(source)
            + (model == null ? " without a model" : " with a model")
            + ". Name the model for model answers, omit it for rules.");
    Checks.required("timings", timings);
    Checks.required("answeredAt", answeredAt);
    Checks.optionalRange("parts", parts, 0, Integer.MAX_VALUE);
    if (answeredBy != null) {
      checkAnsweredBy("answeredBy", answeredBy);
    }
    Checks.check(
        adapter == null || model != null,
        "adapter is only named with the model it was applied to: got an adapter without a model."
            + " Name the base model, or leave the adapter out.");
  }

  /** An answer without an adapter (the base model alone, or rules). */
  public Answer(
      int schemaVersion,
      String id,
      String answer,
      List<SensorCitation> sensors,
      Source source,
      ModelRef model,
      AnswerTimings timings,
      Instant answeredAt,
      Integer parts,
      String answeredBy,
      AnswerEscalation escalation) {
    this(
        schemaVersion,
        id,
        answer,
        sensors,
        source,
        model,
        timings,
        answeredAt,
        parts,
        answeredBy,
        escalation,
        null);
  }

  /** An answer with a part count, without escalation fields. */
  public Answer(
      int schemaVersion,
      String id,
      String answer,
      List<SensorCitation> sensors,
      Source source,
      ModelRef model,
      AnswerTimings timings,
      Instant answeredAt,
      Integer parts) {
    this(
        schemaVersion,
        id,
        answer,
        sensors,
        source,
        model,
        timings,
        answeredAt,
        parts,
        null,
        null,
        null);
  }

  /** An answer without a part count (not streamed). */
  public Answer(
      int schemaVersion,
      String id,
      String answer,
      List<SensorCitation> sensors,
      Source source,
      ModelRef model,
      AnswerTimings timings,
      Instant answeredAt) {
    this(
        schemaVersion,
        id,
        answer,
        sensors,
        source,
        model,
        timings,
        answeredAt,
        null,
        null,
        null,
        null);
  }

  /** This answer with its text and part count replaced (see {@code parts}). */
  public Answer withText(String text, Integer parts) {
    return new Answer(
        schemaVersion,
        id,
        text,
        sensors,
        source,
        model,
        timings,
        answeredAt,
        parts,
        answeredBy,
        escalation,
        adapter);
  }

  /** This answer naming the adapter applied on top of its model (null: none). */
  public Answer withAdapter(ModelRef adapter) {
    return new Answer(
        schemaVersion,
        id,
        answer,
        sensors,
        source,
        model,
        timings,
        answeredAt,
        parts,
        answeredBy,
        escalation,
        adapter);
  }
}
