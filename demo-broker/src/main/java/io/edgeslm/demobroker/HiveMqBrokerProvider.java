package io.edgeslm.demobroker;

import io.edgeslm.agent.AgentTransportException;
import io.edgeslm.agent.broker.LocalBroker;
import io.edgeslm.agent.broker.LocalBrokerProvider;

/**
 * Hands {@link HiveMqBroker} to the agent through its {@link LocalBrokerProvider} service
 * (registered in {@code META-INF/services}): the agent loads this module's jars only when {@code
 * ./run-agent} names them and no broker URL is configured.
 */
public final class HiveMqBrokerProvider implements LocalBrokerProvider {

  @Override
  public String name() {
    return "HiveMQ CE";
  }

  @Override
  public LocalBroker start(String host, int port) throws AgentTransportException {
    return HiveMqBroker.start(host, port);
  }
}
