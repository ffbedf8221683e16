package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What produced a text: a language model or the deterministic rules. */
public enum Source {
  /** A language model; the message then names it in a {@link ModelRef}. */
  @JsonProperty("model")
  MODEL,
  /** The deterministic rule-based path, with no model involved. */
  @JsonProperty("rules")
  RULES
}
