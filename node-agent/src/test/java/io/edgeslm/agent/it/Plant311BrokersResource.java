package io.edgeslm.agent.it;

import io.edgeslm.testkit.HarnessUnavailableException;
import io.edgeslm.testkit.MqttBroker;

/** {@link TwoBrokersResource} with a plant broker that speaks MQTT 3.1.1 only (Moquette 0.16). */
public class Plant311BrokersResource extends TwoBrokersResource {

  @Override
  protected MqttBroker startLocal() throws HarnessUnavailableException {
    return MqttBroker.mqtt311Only();
  }
}
