package io.edgeslm.agent.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged agent ({@code target/quarkus-app/quarkus-run.jar}, built by the package phase before
 * Failsafe runs) started as an OS process, as {@code ./run-agent} starts it. Output goes to a file
 * so that a failing test can quote it.
 */
final class AgentProcess implements AutoCloseable {

  static final Path APP = Path.of("target", "quarkus-app").toAbsolutePath();
  static final Path JAR = APP.resolve("quarkus-run.jar");

  private final Process process;
  private final Path log;

  private AgentProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts the agent with {@code env} added to this JVM's environment. */
  static AgentProcess start(Map<String, String> env, Path workDir) throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(
          JAR + " is missing: run the package phase first (./mvnw -pl node-agent verify).");
    }
    Path log = Files.createTempFile(workDir, "agent-", ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
    // The heap and JIT options of src/main/deploy/edgeslm-agent-start: updates and bursts run in
    // them.
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:MaxRAMPercentage=25");
    cmd.add("-Xms16m");
    cmd.add("-XX:NewRatio=6");
    cmd.add("-XX:SurvivorRatio=3");
    cmd.add("-XX:MetaspaceSize=40m");
    cmd.add("-XX:CompileThresholdScaling=20");
    if (Runtime.version().feature() > 21 || Runtime.version().update() >= 1) {
      cmd.add("-XX:TrimNativeHeapInterval=5000"); // as the launcher: where the JVM has it
    }
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-jar");
    cmd.add(JAR.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    return new AgentProcess(pb.start(), log);
  }

  /** The output so far. */
  String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** The agent's process, for its descendants (the engine's child processes). */
  ProcessHandle handle() {
    return process.toHandle();
  }

  /** Waits for the exit code, failing after {@code timeout}. */
  int waitFor(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("The agent did not exit within " + timeout + ":\n" + output());
    }
    return process.exitValue();
  }

  /** SIGTERM, as systemd stops it; waits for the exit. */
  int stop() throws InterruptedException {
    process.destroy();
    return waitFor(Duration.ofSeconds(60));
  }

  /** SIGKILL: no goodbye, as a power cut. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
