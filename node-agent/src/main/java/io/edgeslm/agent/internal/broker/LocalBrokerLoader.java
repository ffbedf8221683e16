package io.edgeslm.agent.internal.broker;

import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.AgentException;
import io.edgeslm.agent.AgentTransportException;
import io.edgeslm.agent.broker.LocalBroker;
import io.edgeslm.agent.broker.LocalBrokerProvider;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Finds and starts the embedded broker, which the gateway artifact does not carry: a {@link
 * LocalBrokerProvider} in the jars that {@value #JARS_KEY} names (the {@code demo-broker} module's
 * {@code target/embedded-broker}, which {@code ./run-agent} sets) or on the agent's own class path.
 *
 * <p>The jars get a class loader of their own whose parent is the agent's, so a provider sees the
 * agent's SPI and shares its libraries (Netty, SLF4J into Quarkus logging); the broker's own
 * classes come from the directory. The broker runs with that loader as the thread context class
 * loader, because HiveMQ reads its configuration through JAXB, which finds its implementation
 * there.
 */
public final class LocalBrokerLoader {

  static final String URL_KEY = "edgeslm.agent.broker.url";
  static final String JARS_KEY = "edgeslm.agent.broker.embedded.jars";
  private static final String SERVICE_FILE =
      "META-INF/services/" + LocalBrokerProvider.class.getName();

  private static final Logger LOG = Logger.getLogger(LocalBrokerLoader.class);

  private LocalBrokerLoader() {}

  /**
   * Starts the embedded broker on {@code host:port}.
   *
   * @param jars the value of {@value #JARS_KEY}, if set
   * @throws AgentConfigException when no provider is found (the configuration asks for a broker
   *     this installation does not have) or {@code jars} is not a directory of jars
   * @throws AgentTransportException when the provider's broker cannot start
   */
  public static LocalBroker start(Optional<String> jars, String host, int port)
      throws AgentException {
    LocalBrokerProvider provider = find(jars);
    ClassLoader own = provider.getClass().getClassLoader();
    LOG.debugf("Embedded broker: %s from %s", provider.name(), own);
    Thread thread = Thread.currentThread();
    ClassLoader before = thread.getContextClassLoader();
    thread.setContextClassLoader(own);
    try {
      return new Started(provider.start(host, port), own);
    } catch (RuntimeException | LinkageError e) {
      throw new AgentTransportException(
          "The embedded broker ("
              + provider.name()
              + ") failed to start: "
              + e
              + ". Rebuild it with ./run-agent, or set "
              + URL_KEY
              + " to an MQTT broker.",
          e);
    } finally {
      thread.setContextClassLoader(before);
    }
  }

  /** The first provider in {@code jars} or on the agent's class path. */
  static LocalBrokerProvider find(Optional<String> jars) throws AgentConfigException {
    Optional<String> dir = jars.map(String::strip).filter(s -> !s.isEmpty());
    ClassLoader agent = LocalBrokerLoader.class.getClassLoader();
    ClassLoader loader = dir.isPresent() ? pluginLoader(dir.get(), agent) : agent;
    Iterator<LocalBrokerProvider> found =
        ServiceLoader.load(LocalBrokerProvider.class, loader).iterator();
    try {
      if (found.hasNext()) {
        return found.next();
      }
    } catch (ServiceConfigurationError e) {
      throw new AgentConfigException(
          dir.isPresent() ? JARS_KEY : URL_KEY, brokenProviderMessage(dir, e.getMessage()), e);
    }
    throw new AgentConfigException(
        dir.isPresent() ? JARS_KEY : URL_KEY,
        dir.isPresent() ? noProviderInJarsMessage(dir.get()) : noEmbeddedBrokerMessage(),
        null);
  }

  private static ClassLoader pluginLoader(String dir, ClassLoader parent)
      throws AgentConfigException {
    Path path = Path.of(dir);
    if (!Files.isDirectory(path)) {
      throw new AgentConfigException(JARS_KEY, badJarsMessage(dir, "no such directory"), null);
    }
    List<URL> urls = new ArrayList<>();
    try (Stream<Path> files = Files.list(path)) {
      for (Path jar : files.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
        urls.add(jar.toUri().toURL());
      }
    } catch (IOException e) {
      throw new AgentConfigException(
          JARS_KEY, badJarsMessage(dir, "cannot be read (" + e.getMessage() + ")"), e);
    }
    if (urls.isEmpty()) {
      throw new AgentConfigException(JARS_KEY, badJarsMessage(dir, "holds no .jar files"), null);
    }
    // Never closed: the broker's threads may load classes until the JVM exits.
    return new URLClassLoader("embedded-broker", urls.toArray(URL[]::new), parent);
  }

  /** No broker URL and no provider: the gateway artifact was asked for the demo's broker. */
  static String noEmbeddedBrokerMessage() {
    return "Invalid configuration "
        + URL_KEY
        + "='': no broker is configured, which asks for the embedded MQTT broker, and this"
        + " installation has none (the gateway artifact leaves it out; it comes with ./run-agent)."
        + " Set "
        + URL_KEY
        + " to your MQTT broker (tcp://host:1883 or ssl://host:8883) in application.properties,"
        + " the file named by EDGESLM_CONFIG, or the environment variable"
        + " EDGESLM_AGENT_BROKER_URL; or try the agent with its demo broker by running ./run-agent"
        + " in the repository.";
  }

  static String badJarsMessage(String dir, String problem) {
    return "Invalid configuration "
        + JARS_KEY
        + "='"
        + dir
        + "': "
        + problem
        + "; expected the directory of the embedded broker's jars"
        + " (demo-broker/target/embedded-broker, which ./run-agent builds and sets). Build it with"
        + " ./run-agent, unset EDGESLM_AGENT_BROKER_EMBEDDED_JARS, or set "
        + URL_KEY
        + " to an MQTT broker.";
  }

  static String noProviderInJarsMessage(String dir) {
    return badJarsMessage(dir, "none of its jars has " + SERVICE_FILE);
  }

  static String brokenProviderMessage(Optional<String> dir, String error) {
    return dir.isPresent()
        ? badJarsMessage(dir.get(), "its embedded broker cannot be loaded (" + error + ")")
        : "The embedded broker on the agent's class path cannot be loaded ("
            + error
            + "). Set "
            + URL_KEY
            + " to an MQTT broker, or run the demo with ./run-agent.";
  }

  /** The provider's broker, stopped with its own loader as context class loader, as it started. */
  private record Started(LocalBroker broker, ClassLoader loader) implements LocalBroker {
    @Override
    public String url() {
      return broker.url();
    }

    @Override
    public void close() {
      Thread thread = Thread.currentThread();
      ClassLoader before = thread.getContextClassLoader();
      thread.setContextClassLoader(loader);
      try {
        broker.close();
      } finally {
        thread.setContextClassLoader(before);
      }
    }
  }
}
