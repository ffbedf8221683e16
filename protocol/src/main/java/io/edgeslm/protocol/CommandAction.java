package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What an {@link UpdateCommand} asks for. */
public enum CommandAction {
  /** Return to the previous model now. */
  @JsonProperty("rollback")
  ROLLBACK,
  /** Stop an assignment that is not yet active and discard its staged data. */
  @JsonProperty("cancel")
  CANCEL
}
