package io.edgeslm.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A gateway made of a Debian 13 root file system with Debian's Java 21 and Java 25 runtimes
 * (deploy-tests/src/test/sh/debian-jdk-root.sh makes it once and caches it), seen through a
 * copy-on-write overlay so that each test installs into its own layer. {@link #install} runs
 * deploy/gateway/install-agent.sh with {@code --root} on the overlay; {@link #startUnit} runs the
 * installed unit's {@code ExecStart=} with the unit's and its drop-ins' {@code Environment=} and
 * nothing else, chrooted into the gateway, as systemd would start the service (as root, and without
 * the unit's sandboxing: those are systemd's, not the command's). Needs root, like CI.
 */
final class DebianGateway {
  private final Path lower;
  private final Path upper;
  private final Path work;
  private final Path merged;

  private DebianGateway(Path lower, Path dir) throws IOException {
    this.lower = lower;
    this.upper = Files.createDirectories(dir.resolve("upper"));
    this.work = Files.createDirectories(dir.resolve("work"));
    this.merged = Files.createDirectories(dir.resolve("merged"));
  }

  /** A fresh overlay below {@code dir} on the cached Debian 13 root. */
  static DebianGateway create(Path dir) throws Exception {
    Path script = Repo.root().resolve("deploy-tests/src/test/sh/debian-jdk-root.sh");
    Path log = Files.createTempFile("debian-jdk-root", ".log");
    Process p =
        new ProcessBuilder("bash", script.toString())
            .redirectError(log.toFile())
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new AssertionError("debian-jdk-root.sh failed:\n" + Files.readString(log));
    }
    return new DebianGateway(Path.of(out), dir);
  }

  /**
   * The Java home of Debian's openjdk-{feature} inside the gateway (Debian names it
   * java-21-openjdk-ARCH under the JVM directory).
   */
  String javaHome(int feature) throws IOException {
    try (Stream<Path> s = Files.list(lower.resolve("usr/lib/jvm"))) {
      return s.filter(d -> d.getFileName().toString().startsWith("java-" + feature + "-openjdk-"))
          .filter(d -> !Files.isSymbolicLink(d))
          .map(d -> "/" + lower.relativize(d))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no Java " + feature + " in " + lower));
    }
  }

  /** What the gateway's files look like to the installed system (reads the overlay's layers). */
  Path file(String absolute) {
    Path inUpper = upper.resolve(absolute.substring(1));
    return Files.exists(inUpper) ? inUpper : lower.resolve(absolute.substring(1));
  }

  /** Writes a file into the gateway (its own layer). */
  void write(String absolute, String text) throws IOException {
    Path f = upper.resolve(absolute.substring(1));
    Files.createDirectories(f.getParent());
    Files.writeString(f, text);
  }

  /**
   * Copies a directory of the gateway, with its links, modes and times ({@code cp -a}), to another
   * path in it (in the gateway's own layer).
   */
  void copy(String from, String to) throws Exception {
    Path target = upper.resolve(to.substring(1));
    Files.createDirectories(target.getParent());
    Process p =
        new ProcessBuilder("cp", "-a", file(from).toString(), target.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new AssertionError("cp -a " + from + " " + to + " failed: " + out);
    }
  }

  /** Runs install-agent.sh {@code --root <gateway> args…}; returns its exit code and output. */
  GatewayInstallIT.Result install(Path log, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", "-c", mountThen("exec \"$@\""), "gateway"));
    cmd.addAll(
        List.of(
            "bash",
            Repo.root().resolve("deploy/gateway/install-agent.sh").toString(),
            "--root",
            merged.toString()));
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(inNamespace(cmd))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("install-agent.sh hung");
    }
    return new GatewayInstallIT.Result(p.exitValue(), Files.readString(log));
  }

  /**
   * The installed unit's command: ExecStart split at spaces (the unit quotes nothing), with the
   * environment systemd gives it: PATH and the Environment= lines of the unit and, in name order,
   * of its drop-ins (a later one wins).
   */
  List<String> unitCommand() throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    List<Path> files = new ArrayList<>();
    files.add(file("/etc/systemd/system/edgeslm-agent.service"));
    try (Stream<Path> s = Files.list(file("/etc/systemd/system/edgeslm-agent.service.d"))) {
      s.filter(f -> f.toString().endsWith(".conf")).sorted().forEach(files::add);
    }
    String exec = null;
    for (Path f : files) {
      for (String line : Files.readAllLines(f)) {
        if (line.startsWith("Environment=")) {
          String kv = line.substring("Environment=".length());
          env.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        } else if (line.startsWith("ExecStart=")) {
          exec = line.substring("ExecStart=".length());
        }
      }
    }
    if (exec == null || exec.contains("\"") || exec.contains("'") || exec.endsWith("\\")) {
      throw new AssertionError("the unit's ExecStart is not one plain line: " + exec);
    }
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/env", "-i"));
    env.forEach((k, v) -> cmd.add(k + "=" + v));
    cmd.addAll(List.of(exec.trim().split(" +")));
    return cmd;
  }

  /** Starts {@link #unitCommand()} chrooted into the gateway; output goes to {@code log}. */
  Process startUnit(Path log) throws IOException {
    List<String> cmd =
        new ArrayList<>(List.of("bash", "-c", mountThen("exec chroot \"$M\" \"$@\""), "gateway"));
    cmd.addAll(unitCommand());
    return new ProcessBuilder(inNamespace(cmd))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /** The JVM a {@link #startUnit} process runs (the launcher exec()s it), once it runs. */
  static ProcessHandle jvm(Process unit) throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      var java =
          unit.descendants()
              .filter(h -> h.info().command().map(c -> c.endsWith("/bin/java")).orElse(false))
              .findFirst();
      if (java.isPresent()) {
        return java.get();
      }
      if (!unit.isAlive()) {
        throw new AssertionError("the unit's command exited with " + unit.exitValue());
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the unit's command started no java within 60 s");
  }

  /** A private mount namespace: the overlay and /proc, /dev mounts vanish with the process. */
  private static List<String> inNamespace(List<String> cmd) {
    List<String> all = new ArrayList<>(List.of("unshare", "--mount", "--fork", "--kill-child"));
    all.addAll(cmd);
    return all;
  }

  private String mountThen(String then) {
    return "set -e; M='"
        + merged
        + "'; mount -t overlay overlay -o 'lowerdir="
        + lower
        + ",upperdir="
        + upper
        + ",workdir="
        + work
        + "' \"$M\"; mount -t proc proc \"$M/proc\"; mount --rbind /dev \"$M/dev\"; "
        + then;
  }
}
