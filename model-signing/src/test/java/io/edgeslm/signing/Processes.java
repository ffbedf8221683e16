package io.edgeslm.signing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs an external program for integration tests, failing clearly when it is not installed. */
final class Processes {
  private Processes() {}

  record Output(int code, String out) {}

  static Output run(Path dir, List<String> command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot start '"
              + command.get(0)
              + "' ("
              + e.getMessage()
              + "). This test needs it installed: on Debian/Ubuntu run"
              + " 'apt-get install -y openssl' (or put the JDK's java on PATH).",
          e);
    }
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(command + " did not finish within 120 s");
    }
    return new Output(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  static Output openssl(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    return run(dir, cmd);
  }
}
