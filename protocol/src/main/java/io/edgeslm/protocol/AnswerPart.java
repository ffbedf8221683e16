package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;

/**
 * A streamed piece of an answer ({@code "type":"part"}), sent only when the question asked for
 * {@code stream}. Parts are numbered from 0; concatenating their {@code text} in {@code seq} order
 * gives the answer so far. The final {@link Answer} repeats the whole text, so a client that misses
 * parts loses nothing.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param id the question's id, echoed; optional
 * @param seq 0-based position of this part
 * @param text the new text, at most {@value #MAX_TEXT_CHARS} characters (may be empty)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AnswerPart(
    @JsonProperty(required = true) int schemaVersion,
    String id,
    @JsonProperty(required = true) int seq,
    @JsonProperty(required = true) String text)
    implements Reply {

  /** Longest text of one part. */
  public static final int MAX_TEXT_CHARS = 4096;

  public AnswerPart {
    Checks.schemaVersion("AnswerPart", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.optionalIdentifier("id", id, Question.MAX_ID_CHARS);
    Checks.range("seq", seq, 0, Integer.MAX_VALUE);
    Checks.boundedText("text", text, MAX_TEXT_CHARS);
  }

  /** A current-version part. */
  public static AnswerPart of(String id, int seq, String text) {
    return new AnswerPart(Protocol.SCHEMA_VERSION, id, seq, text);
  }
}
