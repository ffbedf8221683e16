package io.edgeslm.inference.internal.worker;

import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.InferenceConfigException;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.internal.engine.ChildProcesses;
import io.edgeslm.inference.internal.engine.OutputTail;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One worker JVM and its socket: spawning, the handshake, framed I/O, a bounded tail of its stderr,
 * and killing its whole process tree. Supervision policy (restarts, hangs) lives in {@link
 * WorkerEngine}.
 */
final class WorkerProcess {
  private static final int STDERR_TAIL_BYTES = 8 * 1024;

  private final Process process;
  private final Path directory;
  private final SocketChannel channel;
  private final DataInputStream in;
  private final DataOutputStream out;
  private final OutputStream lifeline;
  private final OutputTail stderrTail = OutputTail.inMemory(STDERR_TAIL_BYTES);
  private volatile long lastHeardNanos = System.nanoTime();
  private boolean directoryDeleted;

  private WorkerProcess(
      Process process,
      Path directory,
      SocketChannel channel,
      DataInputStream in,
      DataOutputStream out,
      OutputStream lifeline) {
    this.process = process;
    this.directory = directory;
    this.channel = channel;
    this.in = in;
    this.out = out;
    this.lifeline = lifeline;
  }

  /**
   * Starts a worker JVM and completes the handshake.
   *
   * @throws InferenceConfigException if Java or the class path cannot be found, or the work
   *     directory cannot be created
   * @throws IOException if the worker dies or stays silent before its HELLO
   */
  static WorkerProcess start(EngineConfig.WorkerBackend config, Duration timeout)
      throws InferenceException, IOException {
    Path base =
        config
            .workDirectoryBase()
            .orElse(Path.of(System.getProperty("java.io.tmpdir")))
            .toAbsolutePath();
    Path dir;
    try {
      dir = ChildProcesses.createPrivateDirectory(base, DIRECTORY_PREFIX);
      // The binding deletes files named llama* in its directory and fails with a misleading
      // message if the directory is missing: give it a private, existing one.
      Files.createDirectory(dir.resolve("native"));
      Files.createDirectory(dir.resolve("tmp"));
    } catch (IOException e) {
      throw new InferenceConfigException(
          "Cannot create the worker's private directory under '"
              + base
              + "': "
              + e.getMessage()
              + ". Point workDirectoryBase at a writable local directory.",
          e);
    }
    Path socket = dir.resolve("ctl.sock");
    if (socket.toString().getBytes(StandardCharsets.UTF_8).length > 100) {
      deleteTree(dir);
      throw new InferenceConfigException(
          "Worker socket path '"
              + socket
              + "' is longer than the 100 bytes a Unix socket address allows. Use a shorter"
              + " workDirectoryBase such as /tmp.");
    }
    List<String> command = command(config, dir, socket);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    Process process = null;
    try {
      server.bind(UnixDomainSocketAddress.of(socket), 1);
      ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
      // llama.cpp decodes with OpenMP. With libgomp's default wait policy its threads spin at
      // barriers; when other processes share the cores (MQTT, builds, the agent itself) a thread
      // spins while its partner is descheduled, and decoding fell to a tenth of its speed in our
      // benchmark (docs/benchmarks.md). Sleeping waits keep full speed on an idle machine and
      // degrade gracefully on a busy one. An explicit setting in the environment wins.
      pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
      pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.redirectError(ProcessBuilder.Redirect.PIPE);
      try {
        process = pb.start();
      } catch (IOException e) {
        throw new InferenceConfigException(
            "Cannot start the worker JVM '"
                + command.get(0)
                + "': "
                + e.getMessage()
                + ". Set javaExecutable to a JDK 21+ java binary.",
            e);
      }
      byte[] secretBytes = new byte[16];
      new SecureRandom().nextBytes(secretBytes);
      String secret = HexFormat.of().formatHex(secretBytes);
      OutputStream stdin = process.getOutputStream();
      stdin.write((secret + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();

      Process p = process;
      // accept() has no timeout: close the server socket if the worker dies or takes too long.
      CompletableFuture<SocketChannel> accepted =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return server.accept();
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              },
              r -> startDaemon("edgeslm-worker-accept", r));
      p.onExit().thenRun(() -> closeQuietly(server));
      SocketChannel ch;
      try {
        ch = accepted.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        String why = e instanceof TimeoutException ? "did not connect within " + timeout : "died";
        kill(p);
        throw new IOException(
            "The worker JVM (pid "
                + p.pid()
                + ") "
                + why
                + " before its handshake. Its last output: "
                + drainNow(p),
            e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill(p);
        throw new IOException("Interrupted while starting the worker", e);
      }
      DataInputStream in =
          new DataInputStream(new BufferedInputStream(Channels.newInputStream(ch), 65536));
      DataOutputStream out =
          new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch), 65536));
      WorkerProcess wp = new WorkerProcess(p, dir, ch, in, out, stdin);
      wp.startStderrDrain();
      Frame hello = Frame.readFrom(in);
      if (hello.type() != Frame.Type.HELLO) {
        wp.kill();
        throw new IOException("Worker sent " + hello.type() + " instead of HELLO");
      }
      Wire.Hello h = Wire.decodeHello(hello.payload());
      if (!h.secret().equals(secret)) {
        wp.kill();
        throw new IOException(
            "A process other than our worker connected to the worker socket; refused it.");
      }
      return wp;
    } catch (InferenceException | IOException | RuntimeException e) {
      if (process != null) {
        kill(process);
      }
      deleteTree(dir);
      throw e;
    } finally {
      closeQuietly(server);
      try {
        Files.deleteIfExists(socket);
      } catch (IOException ignored) {
        // The directory is deleted when the worker exits.
      }
    }
  }

  private static final String DIRECTORY_PREFIX = "edgeslm-worker-";

  /** Removes worker directories left behind by a host that died without cleaning up. */
  static void sweepStale(Path base) {
    ChildProcesses.sweepStale(base, DIRECTORY_PREFIX);
  }

  private static List<String> command(EngineConfig.WorkerBackend config, Path dir, Path socket)
      throws InferenceConfigException {
    String java =
        config
            .javaExecutable()
            .map(Path::toString)
            .or(() -> ProcessHandle.current().info().command())
            .orElseThrow(
                () ->
                    new InferenceConfigException(
                        "Cannot tell which java runs this process. Set javaExecutable in the"
                            + " worker configuration."));
    Set<String> cp = new LinkedHashSet<>();
    cp.add(locationOf(WorkerMain.class));
    cp.add(locationOf(de.kherud.llama.LlamaModel.class));
    for (Path p : config.extraClasspath()) {
      cp.add(p.toAbsolutePath().toString());
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("-Xmx" + config.maxHeapMegabytes() + "m");
    cmd.add("-Xss1m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:-UsePerfData");
    cmd.add("-XX:+ExitOnOutOfMemoryError");
    if (config.javaExecutable().isEmpty() && Runtime.version().feature() >= 22) {
      // Same JVM as ours: it knows the flag; without it JDK 24+ warns about JNI loading.
      cmd.add("--enable-native-access=ALL-UNNAMED");
    }
    cmd.add("-Dde.kherud.llama.tmpdir=" + dir.resolve("native"));
    cmd.add("-Djava.io.tmpdir=" + dir.resolve("tmp"));
    cmd.add("-cp");
    cmd.add(String.join(File.pathSeparator, cp));
    cmd.add(WorkerMain.class.getName());
    cmd.add(socket.toString());
    return cmd;
  }

  private static String locationOf(Class<?> c) throws InferenceConfigException {
    CodeSource cs = c.getProtectionDomain().getCodeSource();
    if (cs == null || cs.getLocation() == null) {
      throw new InferenceConfigException(
          "Cannot find the jar or directory "
              + c.getName()
              + " was loaded from, so the worker's class path is unknown. List the inference"
              + " and de.kherud:llama jars in extraClasspath.");
    }
    try {
      return Path.of(cs.getLocation().toURI()).toString();
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new InferenceConfigException(
          "Class path entry '" + cs.getLocation() + "' is not a local file: " + e.getMessage(), e);
    }
  }

  long pid() {
    return process.pid();
  }

  Process process() {
    return process;
  }

  /** Nanosecond timestamp of the last frame received from the worker. */
  long lastHeardNanos() {
    return lastHeardNanos;
  }

  /** Sends one frame; thread-safe. */
  void send(Frame f) throws IOException {
    synchronized (out) {
      f.writeTo(out);
      out.flush();
    }
  }

  /** Reads one frame; only the reader thread calls this. */
  Frame receive() throws IOException {
    Frame f = Frame.readFrom(in);
    lastHeardNanos = System.nanoTime();
    return f;
  }

  /** The last bytes the worker wrote to stderr, for error messages. */
  String stderrTail() {
    return stderrTail.tail();
  }

  /**
   * Asks the worker to exit, waits up to {@code grace}, then kills its tree; removes its private
   * directory.
   */
  void stop(Duration grace) {
    try {
      send(Frame.of(Frame.Type.SHUTDOWN, 0));
    } catch (IOException ignored) {
      // Already gone: kill below is a no-op then.
    }
    try {
      process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    kill();
  }

  /** SIGKILLs the worker and any descendants, closes the streams and removes its directory. */
  void kill() {
    kill(process);
    closeQuietly(channel);
    try {
      lifeline.close();
    } catch (IOException ignored) {
      // The process is gone.
    }
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      if (!directoryDeleted) {
        directoryDeleted = true;
        deleteTree(directory);
      }
    }
  }

  private static void kill(Process p) {
    ChildProcesses.killTree(p);
  }

  private void startStderrDrain() {
    startDaemon(
        "edgeslm-worker-stderr-" + process.pid(),
        () -> {
          byte[] buf = new byte[4096];
          try (InputStream err = process.getErrorStream()) {
            int n;
            while ((n = err.read(buf)) >= 0) {
              stderrTail.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
          } catch (IOException ignored) {
            // The worker exited.
          }
        });
  }

  private static String drainNow(Process p) {
    try {
      InputStream err = p.getErrorStream();
      int available = Math.min(err.available(), STDERR_TAIL_BYTES);
      String s = new String(err.readNBytes(available), StandardCharsets.UTF_8).strip();
      return s.isEmpty() ? "(nothing)" : s;
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  static Thread startDaemon(String name, Runnable r) {
    return ChildProcesses.startDaemon(name, r);
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // Closing is best effort here.
    }
  }

  static void deleteTree(Path dir) {
    ChildProcesses.deleteTree(dir);
  }

  /** Exit description for messages: "exit code 1" or "killed by signal 9". */
  String exitDescription() {
    return ChildProcesses.exitDescription(process);
  }

  static String describeExit(int code) {
    return ChildProcesses.describeExit(code);
  }

  /** Runs {@code onExit} once the process has exited. */
  void onExit(Consumer<WorkerProcess> onExit) {
    process.onExit().thenRun(() -> onExit.accept(this));
  }
}
