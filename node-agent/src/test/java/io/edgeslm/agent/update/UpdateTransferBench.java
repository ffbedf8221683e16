package io.edgeslm.agent.update;

import io.edgeslm.agent.internal.store.StagedTransfer;
import io.edgeslm.agent.internal.update.ChunkDownloader;
import io.edgeslm.agent.internal.update.ConnectionUpdateLink;
import io.edgeslm.agent.internal.update.PahoUpdateLink;
import io.edgeslm.agent.internal.update.UpdateException;
import io.edgeslm.agent.internal.update.UpdateLink;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.bundles.BundleServer;
import io.edgeslm.testkit.bundles.Faults;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark (not a test): a bundle of {@code SIZE_MB} (default 1024) over the local Mosquitto with
 * the update downloader, against {@code mosquitto_pub}/{@code mosquitto_sub} moving the same number
 * of same-size QoS 1 messages in the same run; then the bytes fetched again after the download is
 * stopped at half way without a final flush and resumed. Run with bench/updates/run.sh.
 *
 * <p>For the download it also prints where the time went: the gaps in which no chunk reached the
 * downloader (its pipeline bubbles), and the CPU each thread of this JVM spent (bundle server and
 * node share it). {@code -Dbench.warmupMb=N} first downloads N MiB untimed (compiled code, as in an
 * agent that has downloaded before); {@code -Dbench.arrivals=FILE} writes each chunk's arrival time
 * (epoch ms), to line up with a JFR recording.
 */
public final class UpdateTransferBench {

  private UpdateTransferBench() {}

  public static void main(String[] args) throws Exception {
    long sizeMb = args.length > 0 ? Long.parseLong(args[0]) : 1024;
    String where = args.length > 1 ? args[1] : "private";
    // "private": a Mosquitto of our own (default configuration) on a free port, so that other
    // tests or benchmarks using the shared broker cannot answer our chunk requests.
    try (MqttBroker broker = "private".equals(where) ? MqttBroker.privateMosquitto() : null) {
      run(sizeMb, broker == null ? where : broker.url(), broker == null ? "" : " (private)");
    }
    System.exit(0);
  }

  static void run(long sizeMb, String url, String note) throws Exception {
    String host = url.replaceAll("^tcp://([^:]+):.*$", "$1");
    String port = url.replaceAll("^.*:(\\d+)$", "$1");
    int chunk = UpdateAssignment.DEFAULT_CHUNK_BYTES;
    Path work = Files.createTempDirectory("edgeslm-update-bench");
    Path bundle = work.resolve("bundle");
    TestBundles.writeRandom(bundle.resolve("model.bin"), sizeMb << 20, 1);
    long bytes = sizeMb << 20;
    int messages = (int) ((bytes + chunk - 1) / chunk);
    String id = "bench" + UUID.randomUUID().toString().substring(0, 6);
    NodeTopics topics = Topics.node("bench", id);

    // Baseline: the Mosquitto clients move the same messages.
    Path one = work.resolve("chunk.bin");
    TestBundles.writeRandom(one, chunk, 2);
    String topic = "bench/" + id + "/raw";
    Process sub =
        new ProcessBuilder(
                "mosquitto_sub",
                "-h",
                host,
                "-p",
                port,
                "-q",
                "1",
                "-t",
                topic,
                "-C",
                Integer.toString(messages),
                "-N")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    Thread.sleep(700);
    long t0 = System.nanoTime();
    Process pub =
        new ProcessBuilder(
                "mosquitto_pub",
                "-h",
                host,
                "-p",
                port,
                "-q",
                "1",
                "-t",
                topic,
                "--repeat",
                Integer.toString(messages),
                "-f",
                one.toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    pub.waitFor();
    if (!sub.waitFor(10, TimeUnit.MINUTES)) {
      sub.destroyForcibly();
      throw new IllegalStateException("mosquitto_sub did not receive all messages");
    }
    double baseline = mbps(bytes, System.nanoTime() - t0);

    // Second reference: the disk itself, writing the same bytes in chunk-size pieces and forcing
    // them once at the end (the downloader must put every byte on disk, durably; the Mosquitto
    // clients above discard theirs).
    Path diskFile = work.resolve("disk.bin");
    ByteBuffer block = ByteBuffer.wrap(Files.readAllBytes(one));
    long t2 = System.nanoTime();
    try (FileChannel ch =
        FileChannel.open(diskFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int i = 0; i < messages; i++) {
        block.clear();
        while (block.hasRemaining()) {
          ch.write(block);
        }
      }
      ch.force(false);
    }
    double disk = mbps(bytes, System.nanoTime() - t2);
    Files.delete(diskFile);

    try (Sender server = Sender.start(url, id + "-ctl", "bench", id);
        UpdateLink link = link(url, id + "-node")) {
      if (!awaitConnected(link, 10_000)) {
        throw new IllegalStateException("no connection to " + url);
      }
      Holder h = new Holder();
      link.subscribe(topics.updateChunk(), 1, m -> h.offer(m));

      // Optional warm-up (-Dbench.warmupMb=N): a first download of N MiB untimed, so that the
      // timed one runs on compiled code, as in an agent that has downloaded before.
      long warmupMb = Long.getLong("bench.warmupMb", 0);
      if (warmupMb > 0) {
        Path warm = work.resolve("warm-bundle");
        TestBundles.writeRandom(warm.resolve("model.bin"), warmupMb << 20, 3);
        UpdateAssignment w = server.offer(id + "-w", "w", warm, chunk);
        try (StagedTransfer t = StagedTransfer.open(work.resolve("staging-w"), w)) {
          ChunkDownloader d = new ChunkDownloader(t, link, topics.updateChunk(), tuning());
          h.d = d;
          d.run((done, total) -> {}, () -> false);
        }
      }

      // The update downloader, whole file. The node receives its assignment as JSON, so the JSON
      // layer is loaded before the download starts (the staged transfer writes the assignment).
      UpdateAssignment a =
          Json.read(
              Json.write(server.offer(id + "-a", "b", bundle, chunk)),
              UpdateAssignment.class,
              UpdateAssignment.MAX_PAYLOAD_BYTES);
      long t1 = System.nanoTime();
      h.record(messages);
      Map<String, Double> cpu0 = threadCpu();
      double broker0 = brokerCpu();
      double sender0 = server.cpu();
      try (StagedTransfer t = StagedTransfer.open(work.resolve("staging-a"), a)) {
        ChunkDownloader d = new ChunkDownloader(t, link, topics.updateChunk(), tuning());
        h.d = d;
        d.run((done, total) -> {}, () -> false);
      }
      long t1end = System.nanoTime();
      Map<String, Double> cpu1 = threadCpu();
      double broker1 = brokerCpu();
      double sender1 = server.cpu();
      double ours = mbps(bytes, t1end - t1);
      h.gaps(t1, t1end);
      printCpu(cpu0, cpu1, (t1end - t1) / 1e9, server.inThisJvm());
      if (sender0 >= 0 && sender1 >= 0) {
        System.out.printf(
            "  CPU of the sender's JVM during the download: %.2f s%n", sender1 - sender0);
      }
      if (broker0 >= 0 && broker1 >= 0) {
        System.out.printf(
            "  CPU of the private Mosquitto during the download: %.2f s%n", broker1 - broker0);
      }

      // Stop at half way (no final flush), then resume.
      UpdateAssignment b = server.offer(id + "-b", "b", bundle, chunk);
      Path stagingB = work.resolve("staging-b");
      StagedTransfer t = StagedTransfer.open(stagingB, b);
      ChunkDownloader first = new ChunkDownloader(t, link, topics.updateChunk(), tuning());
      h.d = first;
      Thread runner =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      first.run((done, total) -> {}, () -> false);
                    } catch (UpdateException e) {
                      // stopped on purpose
                    }
                  });
      while (t.bytesHave() < bytes / 2) {
        Thread.sleep(1);
      }
      runner.interrupt();
      runner.join();
      t.close();
      Thread.sleep(1000); // let chunks still in flight arrive and be dropped
      h.d = null;
      try (StagedTransfer r = StagedTransfer.open(stagingB, b)) {
        long kept = r.bytesHave();
        ChunkDownloader d = new ChunkDownloader(r, link, topics.updateChunk(), tuning());
        h.d = d;
        d.run((done, total) -> {}, () -> false);
        long refetched = server.resends(b.assignmentId()) * (long) chunk;
        System.out.printf(
            "update transfer, %d MiB in %d chunks of %d KiB over %s, link %s:%n"
                + "  mosquitto_pub/sub baseline: %.1f MB/s%n"
                + "  disk write + fsync:         %.1f MB/s%n"
                + "  update downloader:          %.1f MB/s  (ratio %.2f)%s, sender %s%n"
                + "  stopped at half way: %d MiB kept, %.1f MiB fetched again (window: %d MiB)%n",
            sizeMb,
            messages,
            chunk >> 10,
            url + note,
            link.getClass().getSimpleName(),
            baseline,
            disk,
            ours,
            ours / baseline,
            warmupMb > 0 ? ", after a warm-up of " + warmupMb + " MiB" : "",
            server.inThisJvm() ? "in this JVM" : "in a JVM of its own",
            kept >> 20,
            refetched / 1048576.0,
            ((long) tuning().requestsInFlight() * tuning().chunksPerRequest() * chunk) >> 20);
      }
    } finally {
      try (var s = Files.walk(work)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * CPU seconds (user + system) per thread name of this JVM, from /proc (Linux; empty elsewhere).
   * Names that differ only in a trailing number are summed (one pool).
   */
  static Map<String, Double> threadCpu() {
    Map<String, Double> out = new TreeMap<>();
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    try (var s = Files.list(tasks)) {
      for (Path t : s.toList()) {
        try {
          String name = Files.readString(t.resolve("comm")).strip().replaceAll("[-#]?\\d+$", "");
          String stat = Files.readString(t.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          double sec = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // USER_HZ
          out.merge(name, sec, Double::sum);
        } catch (java.io.IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (java.io.IOException e) {
      return out;
    }
    return out;
  }

  /**
   * CPU seconds (user + system) of the private Mosquitto this JVM started, from /proc (Linux); -1
   * when there is none (a shared broker) or no /proc.
   */
  static double brokerCpu() {
    return ProcessHandle.current()
        .children()
        .filter(p -> p.info().command().map(c -> c.endsWith("/mosquitto")).orElse(false))
        .findFirst()
        .map(p -> procCpu(Path.of("/proc/" + p.pid() + "/stat")))
        .orElse(-1.0);
  }

  private static double procCpu(Path stat) {
    try {
      String s = Files.readString(stat);
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // USER_HZ
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  static void printCpu(
      Map<String, Double> before, Map<String, Double> after, double seconds, boolean withSender) {
    StringBuilder sb = new StringBuilder();
    double total = 0;
    List<Map.Entry<String, Double>> rows = new ArrayList<>();
    for (var e : after.entrySet()) {
      double d = e.getValue() - before.getOrDefault(e.getKey(), 0.0);
      total += d;
      if (d >= 0.05) {
        rows.add(Map.entry(e.getKey(), d));
      }
    }
    rows.sort(Map.Entry.<String, Double>comparingByValue().reversed());
    for (var e : rows) {
      sb.append(String.format(" %s %.2f", e.getKey(), e.getValue()));
    }
    System.out.printf(
        "  CPU during the download (this JVM: %s), %.2f s in %.2f s:%s%n",
        withSender ? "bundle server and node" : "node", total, seconds, sb);
  }

  /** The link under test: -Dbench.link=paho measures the Paho link for comparison. */
  static UpdateLink link(String url, String clientId) throws java.io.IOException {
    return "paho".equals(System.getProperty("bench.link"))
        ? PahoUpdateLink.connect(url, clientId)
        : ConnectionUpdateLink.open(url, clientId);
  }

  static boolean awaitConnected(UpdateLink link, long millis) throws InterruptedException {
    long until = System.nanoTime() + millis * 1_000_000;
    while (!link.isConnected() && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    return link.isConnected();
  }

  /**
   * Where the chunks come from: the test kit's {@link BundleServer} in this JVM (default), or with
   * {@code -Dbench.sender=process} in a JVM of its own ({@link BundleSenderMain}), as the
   * controller is on another machine in the field.
   */
  interface Sender extends AutoCloseable {

    UpdateAssignment offer(String assignmentId, String bundleId, Path dir, int chunkBytes)
        throws java.io.IOException;

    /** Chunks of the assignment sent more than once, summed. */
    long resends(String assignmentId) throws java.io.IOException;

    boolean inThisJvm();

    /** CPU seconds of the sender's own JVM so far; -1 when it is this JVM. */
    double cpu();

    @Override
    void close();

    static Sender start(String url, String clientId, String site, String nodeId) throws Exception {
      if ("process".equals(System.getProperty("bench.sender"))) {
        return new ChildSender(url, clientId, site, nodeId);
      }
      BundleServer server = BundleServer.start(url, clientId, Faults.NONE);
      NodeTopics topics = Topics.node(site, nodeId);
      return new Sender() {
        @Override
        public UpdateAssignment offer(String id, String bundleId, Path dir, int chunkBytes)
            throws java.io.IOException {
          return server.offer(id, bundleId, BundleSenderMain.benchModel(), dir, chunkBytes, topics);
        }

        @Override
        public long resends(String id) {
          return server.resends(id);
        }

        @Override
        public boolean inThisJvm() {
          return true;
        }

        @Override
        public double cpu() {
          return -1;
        }

        @Override
        public void close() {
          server.close();
        }
      };
    }
  }

  /** {@link BundleSenderMain} in a child JVM, driven through its standard input and output. */
  static final class ChildSender implements Sender {
    private final Process process;
    private final java.io.BufferedReader out;
    private final java.io.PrintStream in;

    ChildSender(String url, String clientId, String site, String nodeId) throws Exception {
      List<String> cmd =
          io.edgeslm.testkit.ChildJvm.of(BundleSenderMain.class.getName())
              .jvmArgs("-Xmx512m")
              .args(url, clientId, site, nodeId)
              .command();
      process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      out =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(
                  process.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      in =
          new java.io.PrintStream(
              process.getOutputStream(), true, java.nio.charset.StandardCharsets.UTF_8);
      String first = out.readLine();
      if (!"ready".equals(first)) {
        process.destroyForcibly();
        throw new IllegalStateException("the sender's JVM did not start: " + first);
      }
    }

    private String ask(String command) throws java.io.IOException {
      in.println(command);
      String answer = out.readLine();
      if (answer == null) {
        throw new java.io.IOException("the sender's JVM exited");
      }
      return answer;
    }

    @Override
    public UpdateAssignment offer(String id, String bundleId, Path dir, int chunkBytes)
        throws java.io.IOException {
      String json = ask("offer " + id + " " + bundleId + " " + dir + " " + chunkBytes);
      try {
        return Json.read(
            json.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            UpdateAssignment.class,
            UpdateAssignment.MAX_PAYLOAD_BYTES);
      } catch (io.edgeslm.protocol.InvalidPayloadException e) {
        throw new java.io.IOException("the sender answered " + json, e);
      }
    }

    @Override
    public long resends(String id) throws java.io.IOException {
      return Long.parseLong(ask("resends " + id));
    }

    @Override
    public boolean inThisJvm() {
      return false;
    }

    @Override
    public double cpu() {
      return procCpu(Path.of("/proc/" + process.pid() + "/stat"));
    }

    @Override
    public void close() {
      in.println("quit");
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Routes chunk messages to whichever downloader runs now. */
  static final class Holder {
    volatile ChunkDownloader d;
    long[] at = new long[0];
    int n;

    void record(int messages) {
      at = new long[messages * 2];
      n = 0;
    }

    void offer(io.edgeslm.agent.internal.update.UpdateLink.Message m) {
      ChunkDownloader x = d;
      if (x != null) {
        if (n < at.length) {
          at[n++] = System.nanoTime();
        }
        x.offer(m);
      }
    }

    /** Time with no chunk handed to the downloader: gaps over 2, 10 and 50 ms. */
    void gaps(long start, long end) {
      long[] lim = {2_000_000L, 10_000_000L, 50_000_000L};
      long[] sum = new long[3];
      int[] cnt = new int[3];
      long prev = start;
      for (int i = 0; i <= n; i++) {
        long t = i < n ? at[i] : end;
        long g = t - prev;
        for (int k = 0; k < 3; k++) {
          if (g > lim[k]) {
            sum[k] += g;
            cnt[k]++;
          }
        }
        prev = t;
      }
      System.out.printf(
          "  arrivals %d in %.2f s; gaps >2ms: %d (%.2f s), >10ms: %d (%.2f s), >50ms: %d (%.2f s)%n",
          n, (end - start) / 1e9, cnt[0], sum[0] / 1e9, cnt[1], sum[1] / 1e9, cnt[2], sum[2] / 1e9);
      String dump = System.getProperty("bench.arrivals");
      if (dump != null) {
        // Arrival times as epoch milliseconds, to line up with a JFR recording.
        long offset = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
          sb.append(String.format("%.3f%n", (at[i] + offset) / 1e6));
        }
        try {
          Files.writeString(Path.of(dump), sb);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
      n = at.length; // stop recording
    }
  }

  /** Defaults, or -Dbench.requests / -Dbench.chunks to explore the window. */
  static ChunkDownloader.Tuning tuning() {
    ChunkDownloader.Tuning d = ChunkDownloader.Tuning.defaults();
    return new ChunkDownloader.Tuning(
        Integer.getInteger("bench.requests", d.requestsInFlight()),
        Integer.getInteger("bench.chunks", d.chunksPerRequest()),
        d.idleMillis(),
        d.firstChunkMillis(),
        d.stallMillis(),
        d.maxCorruptChunks());
  }

  static double mbps(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }
}
