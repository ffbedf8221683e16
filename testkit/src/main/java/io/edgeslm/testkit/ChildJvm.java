package io.edgeslm.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Runs a {@code main} class in a separate JVM (the running JDK, by default the caller's class path)
 * and collects its exit status and output. Meant for code that must not share the test's process,
 * such as llama.cpp through {@code de.kherud:llama}: that binding keeps the JVM alive after {@code
 * close()} and deletes files named {@code llama*} in its temp directory, so give the child {@link
 * #llamaTempDir(Path)} and make its {@code main} end with {@code System.exit}.
 *
 * <pre>{@code
 * ChildJvm.Result r = ChildJvm.of(MyProbe.class.getName())
 *     .llamaTempDir(tmp.resolve("llama-natives"))
 *     .args(model.toString())
 *     .timeout(Duration.ofMinutes(2))
 *     .run();
 * r.requireExitCode(0);
 * }</pre>
 *
 * <p>Output goes to files in a private directory (no pipe can fill up and block the child); the
 * result keeps at most the last {@link #MAX_CAPTURED_BYTES} of each stream. A child still running
 * at the timeout is killed with its descendants and reported as a failure.
 */
public final class ChildJvm {
  /** Most bytes of stdout and of stderr kept in a {@link Result}. */
  public static final int MAX_CAPTURED_BYTES = 4 << 20;

  private final String mainClass;
  private String classpath = System.getProperty("java.class.path");
  private final List<String> jvmArgs = new ArrayList<>();
  private final List<String> args = new ArrayList<>();
  private Path workingDirectory;
  private Duration timeout = Duration.ofMinutes(5);

  private ChildJvm(String mainClass) {
    this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
  }

  /** A child JVM that will run {@code mainClass}. */
  public static ChildJvm of(String mainClass) {
    return new ChildJvm(mainClass);
  }

  /** Replaces the class path (default: this JVM's {@code java.class.path}). */
  public ChildJvm classpath(String value) {
    this.classpath = Objects.requireNonNull(value, "classpath");
    return this;
  }

  /** Adds JVM options such as {@code -Xmx512m}. */
  public ChildJvm jvmArgs(String... values) {
    jvmArgs.addAll(List.of(values));
    return this;
  }

  /** Adds {@code -Dkey=value}. */
  public ChildJvm systemProperty(String key, String value) {
    jvmArgs.add("-D" + key + "=" + value);
    return this;
  }

  /**
   * Creates {@code dir} if needed and points {@code de.kherud.llama.tmpdir} at it, so the binding
   * extracts its native library there (and deletes {@code llama*} files only there). Also enables
   * native access so the JDK does not warn.
   */
  public ChildJvm llamaTempDir(Path dir) throws IOException {
    Files.createDirectories(dir);
    systemProperty("de.kherud.llama.tmpdir", dir.toAbsolutePath().toString());
    jvmArgs.add("--enable-native-access=ALL-UNNAMED");
    return this;
  }

  /** Adds program arguments. */
  public ChildJvm args(String... values) {
    args.addAll(List.of(values));
    return this;
  }

  /** The working directory (default: this JVM's). */
  public ChildJvm workingDirectory(Path dir) {
    this.workingDirectory = dir;
    return this;
  }

  /** How long the child may run before it is killed (default 5 minutes). */
  public ChildJvm timeout(Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException("The timeout must be positive, got " + value + ".");
    }
    this.timeout = value;
    return this;
  }

  /** The command line {@link #run()} starts. */
  public List<String> command() {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(mainClass);
    cmd.addAll(args);
    return cmd;
  }

  /**
   * Starts the child, waits for it to exit and returns its status and output.
   *
   * @throws HarnessUnavailableException if the JVM cannot be started or the child outlives the
   *     timeout (it is then killed; the message carries the tail of its stderr)
   * @throws IOException if the output files cannot be read
   * @throws InterruptedException if interrupted while waiting (the child is killed)
   */
  public Result run() throws HarnessUnavailableException, IOException, InterruptedException {
    Path outDir = Files.createTempDirectory("edgeslm-child-");
    Path stdout = outDir.resolve("stdout.txt");
    Path stderr = outDir.resolve("stderr.txt");
    ProcessBuilder pb = new ProcessBuilder(command());
    pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    if (workingDirectory != null) {
      pb.directory(workingDirectory.toFile());
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new HarnessUnavailableException(
          "Could not start a child JVM (" + pb.command().getFirst() + "): " + e.getMessage(), e);
    }
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        kill(p);
        throw new HarnessUnavailableException(
            "Child JVM running "
                + mainClass
                + " did not exit within "
                + timeout
                + " and was killed. Its main must end with System.exit. Last stderr:\n"
                + tail(stderr));
      }
      return new Result(p.exitValue(), tail(stdout), tail(stderr));
    } catch (InterruptedException e) {
      kill(p);
      throw e;
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
      Files.deleteIfExists(outDir);
    }
  }

  private static void kill(Process p) throws InterruptedException {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    p.waitFor(30, TimeUnit.SECONDS);
  }

  private static String tail(Path file) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long len = f.length();
      int n = (int) Math.min(len, MAX_CAPTURED_BYTES);
      byte[] b = new byte[n];
      f.seek(len - n);
      f.readFully(b);
      return new String(b, StandardCharsets.UTF_8);
    }
  }

  /**
   * What a child JVM did.
   *
   * @param exitCode its exit status
   * @param stdout the last (at most 4 MiB) of its standard output
   * @param stderr the last (at most 4 MiB) of its standard error
   */
  public record Result(int exitCode, String stdout, String stderr) {
    public Result {
      Objects.requireNonNull(stdout, "stdout");
      Objects.requireNonNull(stderr, "stderr");
    }

    /**
     * Returns this result if the child exited with {@code expected}.
     *
     * @throws HarnessUnavailableException naming the status and quoting stderr otherwise
     */
    public Result requireExitCode(int expected) throws HarnessUnavailableException {
      if (exitCode != expected) {
        String err = stderr.length() > 8000 ? stderr.substring(stderr.length() - 8000) : stderr;
        throw new HarnessUnavailableException(
            "Child JVM exited with status "
                + exitCode
                + ", expected "
                + expected
                + ". Last stderr:\n"
                + err
                + "\nstdout:\n"
                + (stdout.length() > 4000 ? stdout.substring(stdout.length() - 4000) : stdout));
      }
      return this;
    }
  }
}
