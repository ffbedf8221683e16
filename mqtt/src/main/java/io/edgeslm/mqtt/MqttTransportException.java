package io.edgeslm.mqtt;

/**
 * A publish or subscribe did not succeed: not connected, the in-flight window stayed full, the
 * broker refused, or the connection was lost before the acknowledgement. Retrying later is safe.
 */
public final class MqttTransportException extends MqttLayerException {

  public MqttTransportException(String message, Throwable cause) {
    super(message, cause);
  }
}
