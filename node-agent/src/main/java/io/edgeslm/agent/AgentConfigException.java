package io.edgeslm.agent;

/**
 * A configuration value breaks a rule. The message names the key, the value and the rule, and says
 * where to fix it; start-up stops.
 */
public final class AgentConfigException extends AgentException {

  private static final long serialVersionUID = 1L;

  private final String key;

  public AgentConfigException(String key, String message, Throwable cause) {
    super(message, cause);
    this.key = key;
  }

  /** The full configuration key at fault, e.g. {@code edgeslm.agent.site}. */
  public String key() {
    return key;
  }
}
