package io.edgeslm.testkit.internal.mqtt;

import io.edgeslm.testkit.HarnessUnavailableException;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.internal.process.Executables;
import io.edgeslm.testkit.internal.process.Files2;
import io.edgeslm.testkit.internal.process.Ports;
import io.edgeslm.testkit.internal.process.ProcessReaper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A private {@code mosquitto} process: its own directory (config, ACL, persistence, log), a free
 * loopback port kept across restarts, and cleanup on close (and at JVM exit if a test forgets).
 */
public final class MosquittoProcess implements MqttBroker {
  private static final long START_TIMEOUT_MS = 15_000;
  private static final int LOG_TAIL = 1 << 20;

  private final Path binary;
  private final Path dir;
  private final Path configFile;
  private final Path logFile;
  private final int port;
  private final boolean tls;
  private Process process;

  private MosquittoProcess(Path binary, Path dir, int port, boolean tls) {
    this.binary = binary;
    this.dir = dir;
    this.configFile = dir.resolve("mosquitto.conf");
    this.logFile = dir.resolve("mosquitto.log");
    this.port = port;
    this.tls = tls;
  }

  public static MosquittoProcess start(MosquittoConfig config) throws HarnessUnavailableException {
    Path binary =
        Executables.find("mosquitto")
            .orElseThrow(
                () ->
                    new HarnessUnavailableException(
                        "The mosquitto binary is not on PATH or in /usr/sbin: install it with"
                            + " apt-get install mosquitto, or run ./run-tests"));
    HarnessUnavailableException last = null;
    // The free port may be taken between probing and binding; try a few.
    for (int attempt = 0; attempt < 3; attempt++) {
      Path dir;
      try {
        dir = Files.createTempDirectory("edgeslm-mosquitto-");
      } catch (IOException e) {
        throw new HarnessUnavailableException(
            "Could not create a directory for a private Mosquitto: " + e.getMessage(), e);
      }
      MosquittoProcess p =
          new MosquittoProcess(binary, dir, Ports.freeLoopbackPort(), config.tls() != null);
      try {
        p.writeConfig(config);
        p.start();
        return p;
      } catch (HarnessUnavailableException e) {
        p.close();
        last = e;
        if (!e.getMessage().contains("Address already in use")) {
          throw e;
        }
      }
    }
    throw last;
  }

  private void writeConfig(MosquittoConfig config) throws HarnessUnavailableException {
    try {
      Path acl = dir.resolve("acl");
      Path data = Files.createDirectories(dir.resolve("data"));
      if (!config.aclLines().isEmpty()) {
        Files.write(acl, config.aclLines());
      }
      String user = "root".equals(System.getProperty("user.name")) ? "root" : null;
      Files.write(
          configFile,
          MosquittoConfigFile.render(config, "127.0.0.1", port, acl, data.toString() + "/", user));
    } catch (IOException e) {
      throw new HarnessUnavailableException(
          "Could not write the configuration of a private Mosquitto in " + dir + ": " + e, e);
    }
  }

  @Override
  public synchronized void start() throws HarnessUnavailableException {
    if (process != null && process.isAlive()) {
      return;
    }
    ProcessBuilder pb =
        new ProcessBuilder(binary.toString(), "-c", configFile.toString())
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new HarnessUnavailableException("Could not run " + binary + ": " + e.getMessage(), e);
    }
    ProcessReaper.register(process);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new HarnessUnavailableException(
            "Private Mosquitto exited with status "
                + process.exitValue()
                + " on start (port "
                + port
                + ", config "
                + configFile
                + "). Its log:\n"
                + log());
      }
      if (Ports.accepts("127.0.0.1", port, 200)) {
        return;
      }
      sleep(25);
    }
    kill();
    throw new HarnessUnavailableException(
        "Private Mosquitto did not accept connections on 127.0.0.1:"
            + port
            + " within "
            + START_TIMEOUT_MS
            + " ms and was killed. Its log:\n"
            + log());
  }

  @Override
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    ProcessReaper.unregister(process);
    process = null;
    awaitPortReleased();
  }

  @Override
  public synchronized void kill() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ProcessReaper.unregister(process);
    process = null;
    awaitPortReleased();
  }

  private void awaitPortReleased() {
    for (int i = 0; i < 200 && Ports.accepts("127.0.0.1", port, 100); i++) {
      sleep(25);
    }
  }

  /** True while the broker process runs. */
  public synchronized boolean running() {
    return process != null && process.isAlive();
  }

  @Override
  public String host() {
    return "127.0.0.1";
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public boolean tls() {
    return tls;
  }

  @Override
  public String log() {
    return Files2.tail(logFile, LOG_TAIL);
  }

  /** The directory holding the configuration, ACL, persistence and log. */
  public Path directory() {
    return dir;
  }

  @Override
  public void close() {
    stop();
    Files2.deleteTree(dir);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "private Mosquitto " + url() + " in " + dir;
  }
}
