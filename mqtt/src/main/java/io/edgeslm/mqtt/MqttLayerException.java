package io.edgeslm.mqtt;

/**
 * Base of the MQTT layer's checked exceptions; the subtypes say who must act: {@link
 * MqttConfigurationException} for settings the operator wrote, {@link MqttTransportException} for a
 * broker or network that did not do its part.
 */
public abstract sealed class MqttLayerException extends Exception
    permits MqttConfigurationException, MqttTransportException {

  protected MqttLayerException(String message, Throwable cause) {
    super(message, cause);
  }
}
