package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * A message the node publishes in answer to a {@link Question}: zero or more {@link AnswerPart}s,
 * then exactly one {@link Answer} or {@link ErrorReply}. The JSON property {@code type} ({@code
 * part}, {@code answer}, {@code error}) tells them apart; read with {@code Json.read(bytes,
 * Reply.class)} and switch over the sealed subtypes.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = AnswerPart.class, name = "part"),
  @JsonSubTypes.Type(value = Answer.class, name = "answer"),
  @JsonSubTypes.Type(value = ErrorReply.class, name = "error")
})
public sealed interface Reply permits AnswerPart, Answer, ErrorReply {

  /** The schema version. */
  int schemaVersion();

  /** The question's {@code id}, echoed; null when the question had none. */
  String id();

  /** Whether this reply ends the exchange. */
  @JsonIgnore
  default boolean isFinal() {
    return !(this instanceof AnswerPart);
  }
}
