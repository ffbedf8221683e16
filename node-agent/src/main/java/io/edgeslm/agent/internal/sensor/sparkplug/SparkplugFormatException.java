package io.edgeslm.agent.internal.sensor.sparkplug;

/** A payload on a Sparkplug B topic that is not a Sparkplug B payload. */
public final class SparkplugFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  public SparkplugFormatException(String message) {
    super(message);
  }
}
