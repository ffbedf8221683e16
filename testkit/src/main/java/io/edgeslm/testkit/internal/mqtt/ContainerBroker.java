package io.edgeslm.testkit.internal.mqtt;

import io.edgeslm.testkit.HarnessUnavailableException;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.internal.process.Docker;
import java.nio.file.Path;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * Mosquitto in a Testcontainers container. Loaded only when asked for, so the kit works without
 * Testcontainers on the class path.
 */
public final class ContainerBroker implements MqttBroker {
  /** The image; 2.0.x matches the Mosquitto our Debian machines run. */
  public static final String IMAGE = "eclipse-mosquitto:2.0.20";

  private static final int PORT = 1883;
  private final GenericContainer<?> container;

  private ContainerBroker(GenericContainer<?> container) {
    this.container = container;
  }

  public static MqttBroker start(MosquittoConfig config) throws HarnessUnavailableException {
    if (config.tls() != null) {
      throw new HarnessUnavailableException(
          "TLS files are not copied into containers by the kit; use MqttBroker.privateMosquitto"
              + " for TLS tests.");
    }
    if (!Docker.available()) {
      throw new HarnessUnavailableException(
          "No Docker engine is available for a Mosquitto container. Start Docker, or use the"
              + " local Mosquitto (apt-get install mosquitto) through MqttBroker.local() or"
              + " privateMosquitto().");
    }
    String conf =
        String.join(
                "\n",
                MosquittoConfigFile.render(
                    config,
                    "0.0.0.0",
                    PORT,
                    Path.of("/mosquitto/config/acl"),
                    "/mosquitto/data/",
                    null))
            + "\n";
    GenericContainer<?> c =
        new GenericContainer<>(DockerImageName.parse(IMAGE))
            .withExposedPorts(PORT)
            .withCopyToContainer(Transferable.of(conf), "/mosquitto/config/mosquitto.conf")
            .waitingFor(Wait.forListeningPort());
    if (!config.aclLines().isEmpty()) {
      c.withCopyToContainer(
          Transferable.of(String.join("\n", config.aclLines()) + "\n"), "/mosquitto/config/acl");
    }
    try {
      c.start();
    } catch (RuntimeException e) {
      String logs = "";
      try {
        logs = c.getLogs();
      } catch (RuntimeException ignored) {
        // the container may not exist at all
      }
      c.close();
      throw new HarnessUnavailableException(
          "The Mosquitto container (" + IMAGE + ") did not start: " + e + ". Its log:\n" + logs, e);
    }
    return new ContainerBroker(c);
  }

  @Override
  public String host() {
    return container.getHost();
  }

  @Override
  public int port() {
    return container.getMappedPort(PORT);
  }

  @Override
  public boolean tls() {
    return false;
  }

  @Override
  public void stop() {
    container.getDockerClient().stopContainerCmd(container.getContainerId()).exec();
  }

  @Override
  public void start() throws HarnessUnavailableException {
    try {
      container.getDockerClient().startContainerCmd(container.getContainerId()).exec();
    } catch (RuntimeException e) {
      throw new HarnessUnavailableException(
          "Restarting the Mosquitto container failed: " + e + ". Its log:\n" + log(), e);
    }
  }

  @Override
  public void kill() {
    container.getDockerClient().killContainerCmd(container.getContainerId()).exec();
  }

  @Override
  public String log() {
    return container.getLogs();
  }

  @Override
  public void close() {
    container.close();
  }
}
