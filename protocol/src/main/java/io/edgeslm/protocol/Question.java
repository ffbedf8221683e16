package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * An operator's question, published on {@code edge/v1/{site}/{node}/ask}.
 *
 * <p>MQTT 5 clients set the Response Topic and Correlation Data properties; the node answers there
 * and echoes the correlation data. MQTT 3.1.1 clients, which have neither, put {@code replyTo} and
 * {@code id} in the payload instead; the node then publishes its replies on {@code replyTo} and
 * echoes {@code id} in each one.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}; a question typed by hand may omit it (read
 *     as 1)
 * @param id a client-chosen request id echoed in every reply; required with {@code replyTo}
 * @param question the question, 1 to {@value #MAX_QUESTION_CHARS} characters
 * @param replyTo topic for the replies when the client cannot set an MQTT 5 response topic
 * @param stream true to receive partial answers before the final one; absent means false
 * @param expiresAt the question is not answered after this instant (for clients without MQTT 5
 *     message expiry); optional
 * @param context sensor values the asker sends along (at most {@value #MAX_CONTEXT} entries): a
 *     node escalating a question passes the values its policy lets leave, and the answering node
 *     uses them beside its own; optional, absent means none
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Question(
    int schemaVersion,
    String id,
    String question,
    String replyTo,
    Boolean stream,
    Instant expiresAt,
    java.util.List<SensorCitation> context) {

  /**
   * Longest question text, in characters: the one limit for every asker and node. The controller
   * refuses a longer question before it is sent, a node's {@code qa.max-question-chars} defaults to
   * it and may only lower it.
   */
  public static final int MAX_QUESTION_CHARS = 1000;

  /**
   * Default read limit for question payloads: 16 KiB, room for the longest question in 4-byte UTF-8
   * plus the other fields. Pass it to {@link Json#read(byte[], Class, int)}.
   */
  public static final int MAX_PAYLOAD_BYTES = 16 << 10;

  /** Longest request id. */
  public static final int MAX_ID_CHARS = 128;

  /** Most sensor values a question may carry in {@code context}. */
  public static final int MAX_CONTEXT = 32;

  /** A question without context values. */
  public Question(
      int schemaVersion,
      String id,
      String question,
      String replyTo,
      Boolean stream,
      Instant expiresAt) {
    this(schemaVersion, id, question, replyTo, stream, expiresAt, null);
  }

  public Question {
    // Operators type questions by hand with mosquitto_pub; a missing version is the first one.
    schemaVersion = schemaVersion == 0 ? 1 : schemaVersion;
    Checks.schemaVersion("Question", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.optionalIdentifier("id", id, MAX_ID_CHARS);
    Checks.text("question", question, MAX_QUESTION_CHARS);
    Checks.optionalPublishTopic("replyTo", replyTo);
    Checks.check(
        replyTo == null || id != null,
        "id is required when replyTo is set: got replyTo="
            + Checks.quote(replyTo)
            + " without an id. Add a client-chosen id so replies can be matched.");
    context =
        context == null || context.isEmpty() ? null : Checks.list("context", context, MAX_CONTEXT);
  }

  /** The context values, empty when none were sent. */
  public java.util.List<SensorCitation> contextValues() {
    return context == null ? java.util.List.of() : context;
  }

  /** Reads the JSON form, where {@code schemaVersion} may be absent. */
  @JsonCreator
  static Question fromJson(
      @JsonProperty("schemaVersion") Integer schemaVersion,
      @JsonProperty("id") String id,
      @JsonProperty("question") String question,
      @JsonProperty("replyTo") String replyTo,
      @JsonProperty("stream") Boolean stream,
      @JsonProperty("expiresAt") Instant expiresAt,
      @JsonProperty("context") java.util.List<SensorCitation> context) {
    return new Question(
        schemaVersion == null ? 0 : schemaVersion,
        id,
        question,
        replyTo,
        stream,
        expiresAt,
        context);
  }

  /** An MQTT 5 question: no {@code id}, no {@code replyTo}, final answer only. */
  public static Question of(String question) {
    return new Question(Protocol.SCHEMA_VERSION, null, question, null, null, null);
  }

  /** Whether {@code expiresAt} is set and not after {@code now}. */
  public boolean isExpiredAt(Instant now) {
    return expiresAt != null && !expiresAt.isAfter(Checks.required("now", now));
  }

  /** Whether the client asked for partial answers. */
  public boolean streamRequested() {
    return Boolean.TRUE.equals(stream);
  }
}
