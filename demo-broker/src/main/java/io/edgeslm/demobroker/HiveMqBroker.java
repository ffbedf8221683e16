package io.edgeslm.demobroker;

import com.hivemq.embedded.EmbeddedHiveMQ;
import io.edgeslm.agent.AgentTransportException;
import io.edgeslm.agent.broker.LocalBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The embedded MQTT 5 broker of the one-command default: HiveMQ Community Edition, in memory,
 * listening on loopback only (see {@code docs/adr/0002-embedded-broker.md} for why HiveMQ CE). Its
 * configuration, data and extension folders live in a private temporary directory that is deleted
 * on {@link #close()}. It lives in this module, not in the agent, so that the gateway artifact does
 * not carry HiveMQ's jars; {@link HiveMqBrokerProvider} hands it to the agent.
 */
public final class HiveMqBroker implements LocalBroker {

  private static final Logger LOG = Logger.getLogger(HiveMqBroker.class);

  private final String host;
  private final int port;
  private final Path home;
  private final EmbeddedHiveMQ hivemq;

  private HiveMqBroker(String host, int port, Path home, EmbeddedHiveMQ hivemq) {
    this.host = host;
    this.port = port;
    this.home = home;
    this.hivemq = hivemq;
  }

  /**
   * Starts a broker on {@code host:port} and waits until it accepts connections.
   *
   * @throws AgentTransportException when the port is taken or the broker fails to start
   */
  public static HiveMqBroker start(String host, int port) throws AgentTransportException {
    Path home;
    try {
      home = Files.createTempDirectory("edgeslm-broker-");
      Path conf = Files.createDirectories(home.resolve("conf"));
      Files.createDirectories(home.resolve("data"));
      Files.createDirectories(home.resolve("extensions"));
      Files.writeString(conf.resolve("config.xml"), config(host, port), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AgentTransportException(
          "Cannot prepare the embedded broker's folders in "
              + System.getProperty("java.io.tmpdir")
              + ": "
              + e.getMessage()
              + ". Free space or point java.io.tmpdir elsewhere.",
          e);
    }
    EmbeddedHiveMQ hivemq =
        EmbeddedHiveMQ.builder()
            .withConfigurationFolder(home.resolve("conf"))
            .withDataFolder(home.resolve("data"))
            .withExtensionsFolder(home.resolve("extensions"))
            .withoutLoggingBootstrap()
            .build();
    try {
      hivemq.start().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      closeQuietly(hivemq);
      deleteTree(home);
      throw new AgentTransportException(
          "The embedded MQTT broker could not start on "
              + host
              + ":"
              + port
              + ": "
              + cause
              + ". If another broker already uses the port, set edgeslm.agent.broker.url to it or"
              + " choose another edgeslm.agent.broker.embedded.port.",
          cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closeQuietly(hivemq);
      deleteTree(home);
      throw new AgentTransportException("Interrupted while starting the embedded broker", e);
    }
    LOG.infof("Embedded MQTT 5 broker (HiveMQ CE) listening on %s:%d", host, port);
    return new HiveMqBroker(host, port, home, hivemq);
  }

  /** A broker configuration: one TCP listener, memory persistence, no usage statistics. */
  static String config(String host, int port) {
    return """
        <?xml version="1.0"?>
        <hivemq>
          <listeners>
            <tcp-listener>
              <port>%d</port>
              <bind-address>%s</bind-address>
            </tcp-listener>
          </listeners>
          <persistence>
            <mode>in-memory</mode>
          </persistence>
          <anonymous-usage-statistics>
            <enabled>false</enabled>
          </anonymous-usage-statistics>
        </hivemq>
        """
        .formatted(port, escapeXml(host));
  }

  private static String escapeXml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  @Override
  public String url() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "tcp://" + h + ":" + port;
  }

  @Override
  public void close() {
    closeQuietly(hivemq);
    deleteTree(home);
  }

  private static void closeQuietly(EmbeddedHiveMQ hivemq) {
    try {
      hivemq.stop().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warnf("The embedded broker did not stop cleanly: %s", e.getMessage());
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      LOG.debugf("Could not delete %s: %s", root, e.getMessage());
    }
  }
}
