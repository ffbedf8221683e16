package io.edgeslm.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository is, and the project version, as the build passes them. */
final class Repo {
  private Repo() {}

  /** The repository root (the Maven reactor's directory). */
  static Path root() {
    String dir = System.getProperty("edgeslm.repo");
    Path root = dir == null ? Path.of("..").toAbsolutePath().normalize() : Path.of(dir);
    if (!Files.isDirectory(root.resolve("deploy/k3s"))) {
      throw new IllegalStateException(
          "No deploy/k3s under '"
              + root
              + "': run the tests through Maven from the repository (it sets edgeslm.repo).");
    }
    return root;
  }

  static Path k3s() {
    return root().resolve("deploy/k3s");
  }

  /** The project version, which is also the tag of the application images. */
  static String version() {
    String v = System.getProperty("edgeslm.version");
    if (v == null || v.isBlank()) {
      throw new IllegalStateException(
          "System property edgeslm.version is not set: run the tests through Maven.");
    }
    return v;
  }
}
