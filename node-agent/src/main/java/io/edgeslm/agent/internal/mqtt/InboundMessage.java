package io.edgeslm.agent.internal.mqtt;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A message as received, copied out of Paho's objects so that nothing of Paho's leaks past the
 * transport.
 *
 * @param topic the topic it was published on
 * @param payload the raw payload (not copied again; callers must not modify it)
 * @param qos 0, 1 or 2
 * @param retained whether the broker delivered it from its retained store
 * @param responseTopic MQTT 5 Response Topic, if set
 * @param correlationData MQTT 5 Correlation Data, if set
 * @param messageExpirySeconds MQTT 5 Message Expiry Interval as forwarded by the broker (the time
 *     left), if set
 * @param userProperties MQTT 5 User Properties, in order
 * @param receivedNanos {@link System#nanoTime()} when the transport received it
 */
public record InboundMessage(
    String topic,
    byte[] payload,
    int qos,
    boolean retained,
    Optional<String> responseTopic,
    Optional<byte[]> correlationData,
    Optional<Long> messageExpirySeconds,
    List<Map.Entry<String, String>> userProperties,
    long receivedNanos) {

  public InboundMessage {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(responseTopic, "responseTopic");
    Objects.requireNonNull(correlationData, "correlationData");
    Objects.requireNonNull(messageExpirySeconds, "messageExpirySeconds");
    userProperties = List.copyOf(userProperties);
  }
}
