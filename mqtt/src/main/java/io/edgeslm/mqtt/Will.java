package io.edgeslm.mqtt;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The Last Will the broker publishes when the connection ends without a DISCONNECT.
 *
 * @param topic where the broker publishes it; no wildcards
 * @param payload the will's bytes (copied)
 * @param qos 0, 1 or 2
 * @param retain whether the broker retains it
 * @param delay MQTT 5 Will Delay Interval (ignored on MQTT 3.1.1); zero for at once
 * @param contentType MQTT 5 content type, if any
 */
public record Will(
    String topic,
    byte[] payload,
    int qos,
    boolean retain,
    Duration delay,
    Optional<String> contentType) {

  public Will {
    Topics.requirePublishable(topic);
    payload = Objects.requireNonNull(payload, "payload").clone();
    Message.requireQos(qos);
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(contentType, "contentType");
    if (delay.isNegative() || delay.toSeconds() > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException(
          "Will delay must be 0 to 4294967295 s (MQTT 5 section 3.1.3.2.2): got " + delay);
    }
  }

  /** A retained QoS 1 will without delay or content type. */
  public static Will of(String topic, byte[] payload) {
    return new Will(topic, payload, 1, true, Duration.ZERO, Optional.empty());
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }
}
