package io.edgeslm.mqtt.internal;

import io.edgeslm.mqtt.MqttVersion;

/**
 * Which protocol version the next connect attempt uses. Pure.
 *
 * <p>With {@link MqttVersion#AUTO} the first attempt is MQTT 5. An MQTT 3.1.1 broker answers an
 * MQTT 5 CONNECT with return code 0x01 "unacceptable protocol version" (MQTT 3.1.1 section 3.2.2.3)
 * or closes the connection without a CONNACK (section 3.1.2.2 allows either); an MQTT 5 broker that
 * does not support version 5 answers 0x84 "Unsupported Protocol Version". Any of these switches the
 * connection to MQTT 3.1.1 for good. Other failures (refused credentials, network down) keep the
 * version: falling back then would only hide the real error.
 */
final class VersionChoice {

  /** How a connect attempt failed, as far as the version choice cares. */
  enum Failure {
    /** The broker said it does not speak the version we sent. */
    UNSUPPORTED_VERSION,
    /** The TCP (or TLS) connection was up and closed before any CONNACK. */
    CLOSED_BEFORE_CONNACK,
    /** Anything else: refused, unreachable, timed out. */
    OTHER
  }

  private VersionChoice() {}

  /** The version of the first attempt. */
  static MqttVersion first(MqttVersion configured) {
    return configured == MqttVersion.V3_1_1 ? MqttVersion.V3_1_1 : MqttVersion.V5;
  }

  /**
   * The version of the attempt after {@code current} failed with {@code failure}.
   *
   * @param configured what the settings ask for
   * @param current the version just tried
   */
  static MqttVersion next(MqttVersion configured, MqttVersion current, Failure failure) {
    if (configured == MqttVersion.AUTO && current == MqttVersion.V5 && failure != Failure.OTHER) {
      return MqttVersion.V3_1_1;
    }
    return current;
  }
}
