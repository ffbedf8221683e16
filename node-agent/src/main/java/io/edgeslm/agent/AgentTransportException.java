package io.edgeslm.agent;

/** The broker or the network refused or lost a connection, a subscription or a publish. */
public final class AgentTransportException extends AgentException {

  private static final long serialVersionUID = 1L;

  public AgentTransportException(String message, Throwable cause) {
    super(message, cause);
  }
}
