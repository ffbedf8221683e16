package io.edgeslm.agent.broker;

import io.edgeslm.agent.AgentTransportException;

/**
 * A broker that runs inside the agent's own JVM: the embedded default broker of {@code
 * ./run-agent}. The gateway artifact ({@code node-agent/target/quarkus-app}) carries none, because
 * a broker's jars weigh more than the rest of the agent (docs/adr/0002-embedded-broker.md). The
 * {@code demo-broker} module provides one; the agent finds it with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.edgeslm.agent.broker.LocalBrokerProvider}) in the jars that {@code
 * edgeslm.agent.broker.embedded.jars} names, and only when no {@code edgeslm.agent.broker.url} is
 * configured.
 *
 * <p>An implementation needs a public no-argument constructor and may use nothing of the agent but
 * this package and {@link AgentTransportException}: everything else is internal and may change.
 */
public interface LocalBrokerProvider {

  /** What the broker is, for the agent's log: for example {@code HiveMQ CE}. */
  String name();

  /**
   * Starts a broker listening on {@code host:port} and returns once it accepts connections.
   *
   * @throws AgentTransportException when the port is taken or the broker cannot start; the message
   *     says what to change
   */
  LocalBroker start(String host, int port) throws AgentTransportException;
}
