package io.edgeslm.inference.internal.llamaserver;

import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.InferenceConfigException;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.internal.engine.ChildProcesses;
import io.edgeslm.inference.internal.engine.OutputTail;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code llama-server} child: its command line, start-up until it listens, its merged output
 * (bounded tail and log file), and ending it. Supervision policy lives in {@link
 * LlamaServerEngine}.
 *
 * <p>The server runs under a small {@code /bin/sh} guard that holds our pipe on its stdin: when
 * this JVM dies, even by SIGKILL, the pipe closes and the guard SIGKILLs the server, so no orphaned
 * server keeps the model's memory. The guard exits with the server's status, so a server killed by
 * signal 9 reads as exit 137.
 */
final class LlamaServerProcess {
  static final String API_KEY_FILE = "api-key";

  /**
   * Starts the server ("$@") with stdin detached, prints its pid, kills it when our pipe closes.
   */
  private static final String GUARD =
      """
      exec 3<&0
      "$@" </dev/null &
      child=$!
      echo "edgeslm-child-pid $child"
      { cat <&3 >/dev/null; kill -9 "$child" 2>/dev/null; } &
      watcher=$!
      wait "$child"
      code=$?
      kill "$watcher" 2>/dev/null
      exit "$code"
      """;

  private static final Pattern CHILD_PID = Pattern.compile("^edgeslm-child-pid (\\d+)$");
  private static final Pattern LISTENING =
      Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d{1,5})\\b");

  private final Process guard;
  private final OutputStream lifeline;
  private final OutputTail output;
  private final CompletableFuture<Long> childPid = new CompletableFuture<>();
  private final CompletableFuture<Integer> port = new CompletableFuture<>();

  private LlamaServerProcess(Process guard, OutputTail output) {
    this.guard = guard;
    this.lifeline = guard.getOutputStream();
    this.output = output;
  }

  /** The server's command line (without the guard), for tests and the docs. */
  static List<String> command(EngineConfig.LlamaServerBackend config, ModelSpec spec, Path dir) {
    List<String> c = new ArrayList<>();
    c.add(config.executable().toString());
    c.addAll(List.of("--model", spec.gguf().toString()));
    // Loopback only, and a port the server picks itself (no race with other processes).
    c.addAll(List.of("--host", "127.0.0.1", "--port", "0"));
    c.addAll(List.of("--api-key-file", dir.resolve(API_KEY_FILE).toString()));
    c.addAll(List.of("--ctx-size", Integer.toString(spec.contextSize())));
    c.addAll(List.of("--parallel", Integer.toString(spec.parallelSlots())));
    c.addAll(List.of("--threads", Integer.toString(spec.threads())));
    c.addAll(List.of("--threads-batch", Integer.toString(spec.threads())));
    // Prefill batch sizes written out (they are llama-server's and llama-bench's defaults): the
    // prompt speed the benchmark compares with llama-bench must not move when a release changes a
    // server default.
    c.addAll(List.of("--batch-size", "2048", "--ubatch-size", "512"));
    c.addAll(List.of("--threads-http", "2"));
    c.add("--metrics");
    c.add("--no-webui");
    // No keep-alive comments in streams: the token watchdog must see a silent server as silent.
    c.addAll(List.of("--sse-ping-interval", "-1"));
    c.addAll(List.of("--cache-ram", Integer.toString(config.cacheRamMegabytes())));
    if (!config.thinking()) {
      c.addAll(List.of("--reasoning", "off", "--reasoning-budget", "0"));
    }
    for (Path lora : spec.loraAdapters()) {
      c.addAll(List.of("--lora", lora.toString()));
    }
    return c;
  }

  /**
   * Starts the server and returns once it listens (which llama-server does after loading the
   * model), or fails.
   *
   * @throws InferenceConfigException if the binary is missing or not executable
   * @throws IOException if the server exits or stays silent before listening; the message holds its
   *     last output
   */
  static LlamaServerProcess start(
      EngineConfig.LlamaServerBackend config,
      ModelSpec spec,
      Path dir,
      String apiKey,
      OutputTail output,
      Duration timeout)
      throws InferenceException, IOException {
    Path exe = config.executable();
    if (!Files.isRegularFile(exe) || !Files.isExecutable(exe)) {
      throw new InferenceConfigException(
          "llama-server '"
              + exe
              + "' does not exist or is not executable. Build the pinned release with"
              + " scripts/ensure-llama-server.sh, or point the executable at an installed"
              + " llama-server.");
    }
    Files.writeString(dir.resolve(API_KEY_FILE), apiKey + "\n", StandardCharsets.UTF_8);
    List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", GUARD, "edgeslm-llama-server"));
    cmd.addAll(command(config, spec, dir));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    // Our command line decides; a LLAMA_ARG_* or LLAMA_API_KEY in the agent's environment would
    // otherwise fill in options we leave at their defaults.
    pb.environment()
        .keySet()
        .removeIf(k -> k.startsWith("LLAMA_ARG_") || k.equals("LLAMA_API_KEY"));
    // Same reason as for the worker: spinning OpenMP barriers collapse decoding on shared cores.
    pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new InferenceConfigException("Cannot start /bin/sh for llama-server: " + e, e);
    }
    LlamaServerProcess lp = new LlamaServerProcess(p, output);
    ChildProcesses.startDaemon("edgeslm-llama-server-output-" + p.pid(), lp::drain);
    try {
      CompletableFuture.anyOf(lp.port, p.onExit()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      lp.kill();
      throw new IOException(
          "llama-server did not load '"
              + spec.gguf().getFileName()
              + "' and listen within "
              + timeout
              + ". Raise startupTimeout for large models or slow disks. Its last output: "
              + output.tail());
    } catch (ExecutionException e) {
      // onExit never fails; port completes only normally.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      lp.kill();
      throw new IOException("Interrupted while starting llama-server", e);
    }
    if (!lp.port.isDone()) {
      lp.kill();
      throw new IOException(
          "llama-server exited ("
              + ChildProcesses.exitDescription(p)
              + ") before it listened. Its last output: "
              + output.tail());
    }
    return lp;
  }

  private void drain() {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(guard.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!childPid.isDone()) {
          Matcher m = CHILD_PID.matcher(line);
          if (m.matches()) {
            childPid.complete(Long.parseLong(m.group(1)));
            continue;
          }
        }
        if (!port.isDone()) {
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
        output.append(line.length() > 4096 ? line.substring(0, 4096) + "...\n" : line + "\n");
      }
    } catch (IOException ignored) {
      // The guard exited.
    }
  }

  int port() {
    return port.getNow(-1);
  }

  /** The llama-server's own pid (not the guard's), or the guard's if not known yet. */
  long pid() {
    return childPid.getNow(guard.pid());
  }

  Process guard() {
    return guard;
  }

  boolean isAlive() {
    return guard.isAlive();
  }

  String exitDescription() {
    return ChildProcesses.exitDescription(guard);
  }

  String outputTail() {
    return output.tail();
  }

  /** Asks the server to stop (SIGTERM), waits up to {@code grace}, then kills the tree. */
  void stop(Duration grace) {
    long pid = childPid.getNow(-1L);
    if (pid > 0) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
    }
    try {
      guard.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    kill();
  }

  /** SIGKILLs the server, the guard and its helpers, and closes the lifeline. */
  void kill() {
    long pid = childPid.getNow(-1L);
    if (pid > 0) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    ChildProcesses.killTree(guard);
    try {
      lifeline.close();
    } catch (IOException ignored) {
      // Gone already.
    }
    try {
      guard.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
