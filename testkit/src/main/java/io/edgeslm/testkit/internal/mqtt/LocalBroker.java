package io.edgeslm.testkit.internal.mqtt;

import io.edgeslm.testkit.HarnessUnavailableException;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.internal.process.Ports;

/** The machine's shared Mosquitto: checked for reachability, never stopped by a test. */
public final class LocalBroker implements MqttBroker {
  private final String host;
  private final int port;

  private LocalBroker(String host, int port) {
    this.host = host;
    this.port = port;
  }

  public static boolean reachable(String host, int port) {
    return Ports.accepts(host, port, 2000);
  }

  public static LocalBroker connect(String host, int port) throws HarnessUnavailableException {
    if (!reachable(host, port)) {
      throw new HarnessUnavailableException(
          "Mosquitto is not reachable on "
              + host
              + ":"
              + port
              + ": install it with apt-get install mosquitto and start it, or run ./run-tests");
    }
    return new LocalBroker(host, port);
  }

  @Override
  public String host() {
    return host;
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public boolean tls() {
    return false;
  }

  private UnsupportedOperationException shared(String what) {
    return new UnsupportedOperationException(
        "The shared Mosquitto on "
            + host
            + ":"
            + port
            + " cannot be "
            + what
            + " by a test; use MqttBroker.privateMosquitto(...) for a broker the test owns.");
  }

  @Override
  public void stop() {
    throw shared("stopped");
  }

  @Override
  public void start() {
    throw shared("started");
  }

  @Override
  public void kill() {
    throw shared("killed");
  }

  @Override
  public String log() {
    return "(the shared broker's log is not available to tests; see journalctl -u mosquitto)";
  }

  @Override
  public void close() {}

  @Override
  public String toString() {
    return "local Mosquitto " + url();
  }
}
