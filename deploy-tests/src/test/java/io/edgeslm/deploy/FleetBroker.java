package io.edgeslm.deploy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code mosquitto} started with the broker configuration and ACL file exactly as the
 * production overlay renders them. Only what ties the files to a pod is rewritten: the mount paths
 * ({@code /mosquitto/config/}, {@code /mosquitto/certs/}, {@code /mosquitto/data/}) become the
 * test's directories, and {@code listener 8883} becomes a free loopback port. Every other line, and
 * the whole ACL, is used as rendered.
 */
final class FleetBroker implements AutoCloseable {
  private static final long START_TIMEOUT_MS = 30_000;

  final int port;
  private final Path dir;
  private final Path log;
  private final Process process;

  private FleetBroker(int port, Path dir, Process process) {
    this.port = port;
    this.dir = dir;
    this.log = dir.resolve("mosquitto.log");
    this.process = process;
  }

  /**
   * @param conf the rendered mosquitto.conf
   * @param acl the rendered ACL file
   * @param certs a directory holding ca.crt, tls.crt, tls.key and crl.pem (the Secret's keys)
   */
  static FleetBroker start(String conf, String acl, Path certs, Path dir) throws Exception {
    Path binary =
        java.util.stream.Stream.of(
                "/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst()
            .orElseThrow(
                () ->
                    new AssertionError(
                        "mosquitto is not installed (apt-get install mosquitto, or run"
                            + " scripts/ensure-test-services.sh): the broker security tests need"
                            + " the real broker."));
    Files.createDirectories(dir.resolve("config"));
    Files.createDirectories(dir.resolve("data"));
    int port = freePort();
    if (!conf.contains("\nlistener 8883\n")) {
      throw new AssertionError("The rendered mosquitto.conf has no 'listener 8883' line:\n" + conf);
    }
    String local =
        conf.replace("/mosquitto/config/", dir.resolve("config") + "/")
            .replace("/mosquitto/certs/", certs + "/")
            .replace("/mosquitto/data/", dir.resolve("data") + "/")
            .replace("\nlistener 8883\n", "\nlistener " + port + " 127.0.0.1\n");
    if ("root".equals(System.getProperty("user.name"))) {
      // Started as root, Mosquitto would switch to the user "mosquitto", which cannot read the
      // test's private files; in the pod it runs as uid 1883 from the start.
      local = "user root\n" + local;
    }
    Files.writeString(dir.resolve("mosquitto.conf"), local);
    Files.writeString(dir.resolve("config/acl"), acl);
    Path log = dir.resolve("mosquitto.log");
    Process p =
        new ProcessBuilder(binary.toString(), "-c", dir.resolve("mosquitto.conf").toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    FleetBroker b = new FleetBroker(port, dir, p);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError(
            "mosquitto exited with " + p.exitValue() + " on start. Its log:\n" + b.log());
      }
      if (accepts(port)) {
        return b;
      }
      Thread.sleep(50);
    }
    b.close();
    throw new AssertionError("mosquitto did not listen on " + port + " in time. Log:\n" + b.log());
  }

  String url() {
    return "ssl://127.0.0.1:" + port;
  }

  String log() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
