package io.edgeslm.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code kubectl} as a process. Which one: the system property {@code
 * edgeslm.kubectl} or environment variable {@code EDGESLM_KUBECTL} if set (to test a second
 * kubectl, e.g. Debian's 1.20 beside a newer one), otherwise {@code kubectl} on {@code PATH}. A
 * missing kubectl fails the test: it is never skipped.
 */
final class Kubectl {
  private static final long TIMEOUT_SECONDS = 120;
  private static final long MAX_OUTPUT_BYTES = 16L << 20;

  private Kubectl() {}

  static Path binary() {
    String configured = System.getProperty("edgeslm.kubectl");
    if (configured == null || configured.isBlank()) {
      configured = System.getenv("EDGESLM_KUBECTL");
    }
    if (configured != null && !configured.isBlank()) {
      Path p = Path.of(configured);
      if (!Files.isExecutable(p)) {
        throw new AssertionError(
            "kubectl '" + configured + "' (edgeslm.kubectl / EDGESLM_KUBECTL) is not executable.");
      }
      return p;
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, "kubectl");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new AssertionError(
        "kubectl is not on PATH. The deployment tests render every overlay with it: install it"
            + " (Debian: apt-get install kubernetes-client; scripts/ensure-test-services.sh does"
            + " this) or point EDGESLM_KUBECTL at one.");
  }

  /** {@code kubectl version --client}, first line, for reports. */
  static String version() throws IOException, InterruptedException {
    return run(List.of("version", "--client")).lines().findFirst().orElse("?");
  }

  /**
   * {@code kubectl kustomize dir}: the rendered YAML.
   *
   * @throws AssertionError if kubectl fails; the message carries its stderr
   */
  static String kustomize(Path dir) throws IOException, InterruptedException {
    return run(List.of("kustomize", dir.toString()));
  }

  private static String run(List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary().toString());
    cmd.addAll(args);
    Path out = Files.createTempFile("kubectl-", ".out");
    Path err = Files.createTempFile("kubectl-", ".err");
    try {
      Process p =
          new ProcessBuilder(cmd)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            String.join(" ", cmd) + " did not finish within " + TIMEOUT_SECONDS + " s.");
      }
      if (Files.size(out) > MAX_OUTPUT_BYTES) {
        throw new AssertionError(String.join(" ", cmd) + " wrote more than 16 MiB.");
      }
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      String stderr = Files.readString(err, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new AssertionError(
            String.join(" ", cmd) + " exited with " + p.exitValue() + ":\n" + stderr + stdout);
      }
      return stdout;
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
