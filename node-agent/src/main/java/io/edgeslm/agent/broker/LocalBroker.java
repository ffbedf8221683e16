package io.edgeslm.agent.broker;

/** A running broker from a {@link LocalBrokerProvider}. */
public interface LocalBroker extends AutoCloseable {

  /** The URL the agent's clients connect to, for example {@code tcp://127.0.0.1:1883}. */
  String url();

  /** Stops the broker and deletes whatever it wrote; logs instead of throwing. */
  @Override
  void close();
}
