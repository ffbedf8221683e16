package io.edgeslm.testkit;

import io.edgeslm.testkit.internal.mqtt.ContainerBroker;
import io.edgeslm.testkit.internal.mqtt.LocalBroker;
import io.edgeslm.testkit.internal.mqtt.MoquetteBroker;
import io.edgeslm.testkit.internal.mqtt.MosquittoProcess;
import io.edgeslm.testkit.internal.process.Docker;
import io.edgeslm.testkit.internal.process.Executables;
import java.util.Locale;

/**
 * A real MQTT broker for a test: the machine's shared Mosquitto ({@link #local()}), a private
 * {@code mosquitto} process with its own configuration ({@link #privateMosquitto}), or a
 * Testcontainers container where a Docker engine exists ({@link #container}). None of them ever
 * skips a test: a broker that is missing or fails to start is a {@link HarnessUnavailableException}
 * whose message says what to install or start and quotes the broker's log.
 */
public interface MqttBroker extends AutoCloseable {

  /** Host of the listener (an IP literal). */
  String host();

  /** Port of the listener. */
  int port();

  /** True if the listener speaks TLS. */
  boolean tls();

  /** Server URI for Paho: {@code tcp://host:port} or {@code ssl://host:port}. */
  default String url() {
    return (tls() ? "ssl://" : "tcp://") + host() + ":" + port();
  }

  /**
   * Stops the broker gracefully (SIGTERM; with persistence it saves its state). Clients see the
   * connection close.
   *
   * @throws UnsupportedOperationException for the shared local broker
   */
  void stop() throws HarnessUnavailableException;

  /**
   * Starts a stopped broker again on the same port and waits until it accepts connections.
   *
   * @throws HarnessUnavailableException if it does not come up; the message quotes its log
   * @throws UnsupportedOperationException for the shared local broker
   */
  void start() throws HarnessUnavailableException;

  /** {@link #stop()} then {@link #start()}: a broker restart as clients experience it. */
  default void restart() throws HarnessUnavailableException {
    stop();
    start();
  }

  /**
   * Kills the broker without letting it save or say goodbye (SIGKILL), as a crash or power loss.
   *
   * @throws UnsupportedOperationException for the shared local broker
   */
  void kill() throws HarnessUnavailableException;

  /** The broker's log so far (at most the last 1 MiB), for failure messages. */
  String log();

  /** Stops a broker the kit started and deletes its files; for the shared broker, nothing. */
  @Override
  void close();

  /** Where the shared local Mosquitto listens. */
  String LOCAL_HOST = "127.0.0.1";

  /** Port of the shared local Mosquitto. */
  int LOCAL_PORT = 1883;

  /**
   * The machine's shared Mosquitto on 127.0.0.1:1883, after checking that it accepts TCP
   * connections. Topics are shared with every other test: use unique topic prefixes.
   *
   * @throws HarnessUnavailableException "Mosquitto is not reachable on 127.0.0.1:1883: install it
   *     with apt-get install mosquitto and start it, or run ./run-tests"
   */
  static MqttBroker local() throws HarnessUnavailableException {
    return LocalBroker.connect(LOCAL_HOST, LOCAL_PORT);
  }

  /**
   * Starts a private {@code mosquitto -c <generated config>} on a free loopback port in its own
   * temporary directory and waits until it accepts connections.
   *
   * @throws HarnessUnavailableException if the binary is missing (install with apt-get install
   *     mosquitto) or the broker does not come up (the message quotes its log)
   */
  static MqttBroker privateMosquitto(MosquittoConfig config) throws HarnessUnavailableException {
    return MosquittoProcess.start(config);
  }

  /**
   * Starts a broker that speaks MQTT 3.1.1 only (Moquette 0.16, in this JVM) on a free loopback
   * port: the plant broker that has never heard of MQTT 5. Sessions are kept in memory only.
   *
   * @throws HarnessUnavailableException if it does not start
   */
  static MqttBroker mqtt311Only() throws HarnessUnavailableException {
    return MoquetteBroker.start311();
  }

  /** {@link #privateMosquitto(MosquittoConfig)} with {@link MosquittoConfig#defaults()}. */
  static MqttBroker privateMosquitto() throws HarnessUnavailableException {
    return privateMosquitto(MosquittoConfig.defaults());
  }

  /**
   * Starts Mosquitto ({@code eclipse-mosquitto:2.0.20}) in a container with this configuration.
   * Needs a Docker engine and {@code org.testcontainers:testcontainers} on the test class path; TLS
   * files are not supported on this path. {@link #start()} after {@link #stop()} may map a new host
   * port.
   *
   * @throws HarnessUnavailableException if Docker or Testcontainers is missing, or the container
   *     fails
   */
  static MqttBroker container(MosquittoConfig config) throws HarnessUnavailableException {
    // Checked here: touching ContainerBroker without Testcontainers fails with a linkage error.
    if (!Docker.testcontainersPresent()) {
      throw new HarnessUnavailableException(
          "MqttBroker.container needs org.testcontainers:testcontainers on the test class path;"
              + " add it as a test dependency, or use MqttBroker.local() / privateMosquitto().");
    }
    return ContainerBroker.start(config);
  }

  /**
   * The broker a test suite should use, chosen by the environment variable {@code
   * EDGESLM_TEST_BROKER}: {@code local}, {@code private} or {@code container}. Unset, the kit takes
   * the first that works: the shared local Mosquitto, else a private {@code mosquitto} process,
   * else a container when Docker exists. If none works the exception names all three ways to fix
   * it. Choose {@link #privateMosquitto} directly when the test needs its own configuration,
   * restarts or kills.
   */
  static MqttBroker forTests() throws HarnessUnavailableException {
    String choice = System.getenv("EDGESLM_TEST_BROKER");
    if (choice != null && !choice.isBlank()) {
      return switch (choice.trim().toLowerCase(Locale.ROOT)) {
        case "local" -> local();
        case "private" -> privateMosquitto();
        case "container" -> container(MosquittoConfig.defaults());
        default ->
            throw new HarnessUnavailableException(
                "EDGESLM_TEST_BROKER is '"
                    + choice
                    + "'; use local, private or container, or unset it.");
      };
    }
    if (LocalBroker.reachable(LOCAL_HOST, LOCAL_PORT)) {
      return local();
    }
    if (Executables.find("mosquitto").isPresent()) {
      return privateMosquitto();
    }
    if (Docker.available()) {
      return container(MosquittoConfig.defaults());
    }
    throw new HarnessUnavailableException(
        "No MQTT broker for the tests: Mosquitto is not reachable on 127.0.0.1:1883, no mosquitto"
            + " binary is installed and no Docker engine is available. Install it with apt-get"
            + " install mosquitto (and start it, or let the kit start private brokers), or run"
            + " ./run-tests.");
  }
}
