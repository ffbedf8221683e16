package io.edgeslm.testkit.internal.process;

import java.nio.file.Files;
import java.nio.file.Path;

/** Detects a Docker engine usable through Testcontainers, without loading it when pointless. */
public final class Docker {
  private Docker() {}

  /** True if Testcontainers is on the class path and reports a working Docker engine. */
  public static boolean available() {
    if (!testcontainersPresent()) {
      return false;
    }
    // Ask Testcontainers only if some engine could exist; its probe is slow and noisy otherwise.
    boolean hint =
        System.getenv("DOCKER_HOST") != null
            || Files.exists(Path.of("/var/run/docker.sock"))
            || Files.exists(Path.of(System.getProperty("user.home"), ".testcontainers.properties"));
    if (!hint) {
      return false;
    }
    try {
      return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  /** True if {@code org.testcontainers:testcontainers} is on the class path. */
  public static boolean testcontainersPresent() {
    try {
      Class.forName("org.testcontainers.DockerClientFactory", false, Docker.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
