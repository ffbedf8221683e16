package io.edgeslm.mqtt;

/** The settings cannot work (bad URI, scheme or value); the message names the setting to fix. */
public final class MqttConfigurationException extends MqttLayerException {

  public MqttConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
