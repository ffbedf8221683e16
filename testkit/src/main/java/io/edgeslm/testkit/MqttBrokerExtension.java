package io.edgeslm.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension giving a test class one broker, started before its first test and closed after
 * its last. Register it on a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final MqttBrokerExtension BROKER =
 *     MqttBrokerExtension.privateMosquitto(MosquittoConfig.defaults().withMaxPacketSize(65536));
 *
 * @Test
 * void publishes() { String url = BROKER.broker().url(); ... }
 * }</pre>
 *
 * Test methods may also declare an {@link MqttBroker} parameter. A broker that cannot be started
 * fails every test of the class with the harness's message; nothing is skipped.
 */
public final class MqttBrokerExtension
    implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

  /** Creates the broker; may throw the harness's exception. */
  @FunctionalInterface
  public interface Factory {
    MqttBroker create() throws HarnessUnavailableException;
  }

  private final Factory factory;
  private MqttBroker broker;

  private MqttBrokerExtension(Factory factory) {
    this.factory = factory;
  }

  /** Uses {@link MqttBroker#forTests()}. */
  public static MqttBrokerExtension forTests() {
    return new MqttBrokerExtension(MqttBroker::forTests);
  }

  /** Uses the shared local Mosquitto ({@link MqttBroker#local()}). */
  public static MqttBrokerExtension local() {
    return new MqttBrokerExtension(MqttBroker::local);
  }

  /** Starts a private Mosquitto with {@code config} for the class. */
  public static MqttBrokerExtension privateMosquitto(MosquittoConfig config) {
    return new MqttBrokerExtension(() -> MqttBroker.privateMosquitto(config));
  }

  /** Any other way of making a broker. */
  public static MqttBrokerExtension of(Factory factory) {
    return new MqttBrokerExtension(factory);
  }

  /**
   * The broker of the running test class.
   *
   * @throws IllegalStateException outside the class's lifecycle (e.g. on a non-static field)
   */
  public MqttBroker broker() {
    if (broker == null) {
      throw new IllegalStateException(
          "No broker: register MqttBrokerExtension on a static field with @RegisterExtension.");
    }
    return broker;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    broker = factory.create();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (broker != null) {
      broker.close();
      broker = null;
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == MqttBroker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return broker();
  }
}
