package io.edgeslm.agent;

/**
 * Base of the node agent's checked exceptions. Subtypes say who must act: {@link
 * AgentConfigException} the operator who wrote the configuration, {@link AgentTransportException}
 * whoever runs the broker or the network.
 */
public class AgentException extends Exception {

  private static final long serialVersionUID = 1L;

  public AgentException(String message, Throwable cause) {
    super(message, cause);
  }
}
