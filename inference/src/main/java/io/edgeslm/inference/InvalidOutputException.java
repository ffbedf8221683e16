package io.edgeslm.inference;

import java.util.List;

/**
 * Model output did not parse as JSON or did not validate against the schema it was asked for. It is
 * never passed on; tasks fall back to their deterministic result.
 */
public final class InvalidOutputException extends InferenceException {
  private static final long serialVersionUID = 1L;
  private final List<String> violations;

  public InvalidOutputException(String message, List<String> violations) {
    super(message);
    this.violations = List.copyOf(violations);
  }

  /** Each schema violation or the parse error, in readable form. */
  public List<String> violations() {
    return violations;
  }
}
