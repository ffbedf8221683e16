package io.edgeslm.testkit.internal.mqtt;

import io.edgeslm.testkit.HarnessUnavailableException;
import io.edgeslm.testkit.MqttBroker;
import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Properties;

/**
 * Moquette 0.16 in this JVM on a free loopback port: a broker that speaks MQTT 3.1.1 only (Moquette
 * gained MQTT 5 in 0.17), as many plant brokers still do. It answers an MQTT 5 CONNECT with CONNACK
 * return code 0x01 "unacceptable protocol version" (MQTT 3.1.1 section 3.2.2.3). Sessions live in
 * memory, so a restart starts empty; anonymous clients are allowed; telemetry to Moquette's authors
 * is off.
 */
public final class MoquetteBroker implements MqttBroker {

  private static final String HOST = "127.0.0.1";

  private final int port;
  private Server server;

  private MoquetteBroker(int port) {
    this.port = port;
  }

  /**
   * @throws HarnessUnavailableException if the broker does not start
   */
  public static MoquetteBroker start311() throws HarnessUnavailableException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    } catch (IOException e) {
      throw new HarnessUnavailableException("No free loopback port for Moquette: " + e, e);
    }
    MoquetteBroker b = new MoquetteBroker(port);
    b.start();
    return b;
  }

  @Override
  public synchronized void start() throws HarnessUnavailableException {
    if (server != null) {
      return;
    }
    Properties p = new Properties();
    p.setProperty("host", HOST);
    p.setProperty("port", Integer.toString(port));
    p.setProperty("websocket_port", "disabled");
    p.setProperty("allow_anonymous", "true");
    p.setProperty("persistent_store", "");
    p.setProperty("telemetry_enabled", "false");
    p.setProperty("use_bugsnag", "false");
    Server s = new Server();
    try {
      s.startServer(new MemoryConfig(p));
    } catch (IOException | RuntimeException e) {
      throw new HarnessUnavailableException(
          "Moquette did not start on " + HOST + ":" + port + ": " + e, e);
    }
    awaitListening();
    server = s;
  }

  private void awaitListening() throws HarnessUnavailableException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress(HOST, port), 500);
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new HarnessUnavailableException(
              "Moquette does not accept connections on " + HOST + ":" + port + " after 10 s", e);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HarnessUnavailableException("interrupted while Moquette started", e);
      }
    }
  }

  @Override
  public synchronized void stop() {
    if (server != null) {
      server.stopServer();
      server = null;
    }
  }

  /** In one JVM there is no SIGKILL: the listener closes at once, as {@link #stop()}. */
  @Override
  public void kill() {
    stop();
  }

  @Override
  public String host() {
    return HOST;
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public boolean tls() {
    return false;
  }

  @Override
  public String log() {
    return "(Moquette logs through this JVM's logging)";
  }

  @Override
  public void close() {
    stop();
  }
}
