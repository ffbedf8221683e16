package io.edgeslm.fleet.bench;

import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.internal.catalog.BundleFiles;
import io.edgeslm.fleet.internal.chunk.ChunkServer;
import io.edgeslm.fleet.internal.mqtt.FleetMqtt;
import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttSettings;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.Channel;
import io.edgeslm.protocol.ChunkHeader;
import io.edgeslm.protocol.ChunkRequest;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.MqttBroker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Benchmark (not a test): the controller's real {@link ChunkServer}, on the controller's MQTT
 * connection, serves a bundle of {@code --mib} MiB (default 1024) in 256 KiB QoS 1 chunks through a
 * private Mosquitto to a downloader on its own connection (the MQTT layer, as the agent uses it)
 * that keeps 256 chunks requested, the server's per-node queue bound; against {@code
 * mosquitto_pub}/{@code mosquitto_sub} moving the same number of same-size QoS 1 messages through
 * the same broker in the same run, once before and once after (their mean is the baseline). Issue
 * 18 asks for at least 0.7× of that. Run with {@code bench/updates/controller.sh}.
 *
 * <p>Options: {@code --mib N}; {@code --broker URL} instead of the private Mosquitto; {@code
 * --verify} to check every chunk's SHA-256 in the downloader as an agent does (costs CPU the
 * Mosquitto clients do not spend); {@code --warmup-mib N} and {@code --warmup-messages N}: an
 * untimed chunk transfer, or small messages both ways, first; {@code --downloader mosquitto}: C
 * clients take the chunks and send the requests, so that this JVM is the server alone.
 */
public final class ChunkTransferBench {

  private static final int CHUNK = 256 * 1024;

  /** Chunks per request (the protocol's maximum) and chunks requested but not received at most. */
  private static final int PER_REQUEST = ChunkRequest.MAX_CHUNKS_PER_REQUEST;

  private static final int OUTSTANDING = 256;

  private ChunkTransferBench() {}

  public static void main(String[] args) throws Exception {
    long mib = 1024;
    String where = "private";
    boolean verify = false;
    long warmupMib = 0;
    boolean cDownloader = false;
    int warmupMessages = 0;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--mib" -> mib = Long.parseLong(args[++i]);
        case "--broker" -> where = args[++i];
        case "--verify" -> verify = true;
        case "--warmup-mib" -> warmupMib = Long.parseLong(args[++i]);
        case "--warmup-messages" -> warmupMessages = Integer.parseInt(args[++i]);
        case "--downloader" -> {
          String d = args[++i];
          if (!d.equals("java") && !d.equals("mosquitto")) {
            System.err.println("--downloader must be java or mosquitto: got '" + d + "'.");
            System.exit(2);
          }
          cDownloader = d.equals("mosquitto");
        }
        default -> {
          System.err.println(
              "Unknown option '"
                  + args[i]
                  + "'. Usage: ChunkTransferBench [--mib N] [--broker URL|private] [--verify]"
                  + " [--warmup-mib N] [--downloader java|mosquitto]"
                  + " [--warmup-messages N]");
          System.exit(2);
        }
      }
    }
    // A Mosquitto of our own (default configuration, free port), so that no other test's server
    // answers our chunk requests and nothing else shares the broker's thread.
    try (MqttBroker broker = "private".equals(where) ? MqttBroker.privateMosquitto() : null) {
      run(
          mib,
          broker == null ? where : broker.url(),
          broker == null ? "" : " (private)",
          verify,
          warmupMib,
          cDownloader,
          warmupMessages);
    }
    System.exit(0);
  }

  static void run(
      long mib,
      String url,
      String note,
      boolean verify,
      long warmupMib,
      boolean cDownloader,
      int warmupMessages)
      throws Exception {
    if (cDownloader && verify) {
      throw new IllegalArgumentException(
          "--verify needs the Java downloader: mosquitto_sub does not hash the chunks.");
    }
    URI broker = new URI(url);
    String loadBefore = loadAverage();
    long bytes = mib << 20;
    int messages = (int) ((bytes + CHUNK - 1) / CHUNK);
    String id = "cb" + UUID.randomUUID().toString().substring(0, 6);
    Path work = Files.createTempDirectory("edgeslm-chunk-bench");
    try {
      Path one = work.resolve("chunk.bin");
      writeRandom(one, CHUNK, 2);
      double before = mosquittoTools(broker, "bench/" + id + "/raw1", one, messages, bytes);

      BundleFiles store = new BundleFiles(work.resolve("bundles"));
      String bundleId = "bench-v1-" + id;
      Path file = Files.createDirectories(store.dir(bundleId)).resolve("model.bin");
      writeRandom(file, bytes, 1);
      BundleFile described = BundleFile.fromFile("model.bin", file, CHUNK);
      BundleInfo bundle =
          new BundleInfo(
              bundleId,
              ModelRef.of("bench", 1, "sha256:" + described.sha256()),
              bytes,
              CHUNK,
              List.of(described),
              "{}",
              Set.of(),
              "bench",
              Instant.now());
      String assignmentId = id + "-a";
      NodeTopics node = Topics.node("bench", id);
      Transfer ours;
      String threadSplit;
      try (MqttConnection controller = FleetMqtt.connection(url, id + "-ctl", null, null);
          ChunkServer server =
              new ChunkServer(
                  controller,
                  store,
                  (n, a) ->
                      n.equals(node.node()) && a.equals(assignmentId)
                          ? Optional.of(bundle)
                          : Optional.empty(),
                  1L << 40, // no bandwidth limit: the pipe is what is measured
                  10_000,
                  OUTSTANDING)) {
        controller.subscribe(
            Topics.sharedFilter(Channel.UPDATE_REQUEST), 1, FleetMqtt.guarded(server::onRequest));
        controller.start();
        if (!controller.awaitConnected(Duration.ofSeconds(20))) {
          throw new IllegalStateException(
              "The controller's connection did not come up: " + controller.lastError());
        }
        if (warmupMessages > 0) {
          smallMessages(url, controller, id, warmupMessages);
        }
        // Optional untimed transfer of the file's first chunks first, so that the timed one runs
        // on compiled code as in a controller that has served chunks before (JIT warm-up).
        int warm = (int) Math.min(messages, (warmupMib << 20) / CHUNK);
        if (warm > 0) {
          BundleFile first =
              new BundleFile(
                  described.name(),
                  (long) warm * CHUNK,
                  described.sha256(),
                  described.chunks().subList(0, warm));
          download(url, node, assignmentId, first, verify);
          awaitAcks(server, warm);
        }
        Map<String, Long> threads0 = threadTicks();
        ours =
            cDownloader
                ? mosquittoDownload(broker, node, assignmentId, described)
                : download(url, node, assignmentId, described, verify);
        threadSplit = split(threads0, threadTicks());
        awaitAcks(server, warm + messages);
      }

      double after = mosquittoTools(broker, "bench/" + id + "/raw2", one, messages, bytes);
      double baseline = (before + after) / 2;
      double ratio = ours.mbPerSecond() / baseline;
      System.out.printf(
          "chunk server transfer, %d MiB in %d chunks of %d KiB (QoS 1) over %s%s"
              + " (load average %s at the start, %s at the end):%n"
              + "  mosquitto_pub/sub baseline: %.1f MB/s (%.1f before, %.1f after)%n"
              + "  ChunkServer -> %s:  %.1f MB/s (ratio %.2f; %s)%n"
              + "  this JVM (%s) used %.2f CPU-s per GiB moved,"
              + " %.0f %% of one core, during the transfer (%d cores; load average %s);"
              + "%s%n  its threads' CPU-s during the transfer: %s%n",
          mib,
          messages,
          CHUNK >> 10,
          url,
          note,
          loadBefore,
          loadAverage(),
          baseline,
          before,
          after,
          cDownloader ? "mosquitto_sub" : "downloader",
          ours.mbPerSecond(),
          ratio,
          cDownloader
              ? "chunk sizes and count checked"
              : verify ? "every chunk's SHA-256 verified" : "chunk sizes and indexes checked",
          cDownloader ? "the server alone" : "server and downloader together",
          ours.cpuSecondsPerGib(),
          ours.cpuShare() * 100,
          Runtime.getRuntime().availableProcessors(),
          loadAverage(),
          (warmupMessages > 0
                  ? " after " + warmupMessages + " small QoS 1 messages each way, untimed"
                  : "")
              + (warmupMib > 0
                  ? " after an untimed warm-up transfer of " + warmupMib + " MiB"
                  : ""),
          threadSplit);
      System.out.printf(
          "RESULT name=updates.chunk-server%s measured=%.1f baseline=%.1f unit=MB/s ratio=%.2f"
              + " target=>=0.7x met=%s desc=the controller's ChunkServer serving %d MiB (256 KiB"
              + " chunks, QoS 1) to %s over Mosquitto vs mosquitto_pub/mosquitto_sub"
              + " moving the same messages in the same run%s%n",
          cDownloader ? "-to-mosquitto-sub" : "",
          ours.mbPerSecond(),
          baseline,
          ratio,
          ratio >= 0.7 ? "yes" : "no",
          mib,
          cDownloader ? "mosquitto_sub (requests from mosquitto_pub)" : "a downloader",
          verify ? " (chunks verified)" : "");
    } finally {
      try (var s = Files.walk(work)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * A timed download.
   *
   * @param mbPerSecond MB/s from the first request to the last chunk
   * @param cpuSecondsPerGib this process's CPU time over that span per GiB received
   * @param cpuShare that CPU time over the span's wall time (1 = one core busy)
   */
  record Transfer(double mbPerSecond, double cpuSecondsPerGib, double cpuShare) {}

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * The traffic a running controller has handled before it serves its first chunk, without any
   * chunk: {@code n} small QoS 1 JSON messages (about 400 bytes, like a heartbeat) from a node
   * connection to the controller's, and {@code n} from the controller's to the node (like
   * assignments and commands), untimed. It runs the same client library and Netty paths that the
   * transfer then uses (reads, the decoder, PUBACKs, writes), so a transfer after it shows how much
   * of a fresh JVM's gap is that shared code's JIT warm-up rather than the chunk path's own.
   */
  static void smallMessages(String url, MqttConnection controller, String id, int n)
      throws Exception {
    CountDownLatch atController = new CountDownLatch(n);
    CountDownLatch atNode = new CountDownLatch(n);
    String up = "bench/" + id + "/up";
    String down = "bench/" + id + "/down";
    controller.subscribe(up, 1, m -> atController.countDown()).get(20, TimeUnit.SECONDS);
    MqttSettings settings =
        MqttSettings.builder(url, id + "-warm").receiveMaximum(OUTSTANDING).build();
    try (MqttConnection node = MqttConnection.create(settings)) {
      node.subscribe(down, 1, m -> atNode.countDown());
      node.start();
      if (!node.awaitConnected(Duration.ofSeconds(20))) {
        throw new IllegalStateException(
            "The warm-up connection did not connect: " + node.lastError());
      }
      byte[] json =
          ("{\"schemaVersion\":1,\"nodeId\":\""
                  + id
                  + "\",\"cpu\":0.25,\"memFree\":123456789,"
                  + "\"model\":{\"name\":\"bench\",\"version\":1},\"pad\":\""
                  + "x".repeat(260)
                  + "\"}")
              .getBytes(StandardCharsets.UTF_8);
      Thread other =
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < n; i++) {
                      controller.publish(FleetMqtt.json(down, json, 1, false));
                    }
                  });
      for (int i = 0; i < n; i++) {
        node.publish(Message.of(up, json, 1, false).withContentType(FleetMqtt.JSON));
      }
      other.join();
      if (!atController.await(2, TimeUnit.MINUTES) || !atNode.await(2, TimeUnit.MINUTES)) {
        throw new IllegalStateException(
            "The warm-up messages did not all arrive: "
                + atController.getCount()
                + " to the controller and "
                + atNode.getCount()
                + " to the node missing.");
      }
    }
  }

  /** Waits up to 10 s for the broker's acknowledgements of the first {@code chunks} chunks. */
  private static void awaitAcks(ChunkServer server, long chunks) throws InterruptedException {
    // The downloader can hold the last chunk before the broker's PUBACK for it has reached the
    // server: give the acknowledgements a moment (outside the timed download).
    long ackDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (server.chunksServed() < chunks && System.nanoTime() < ackDeadline) {
      Thread.sleep(10);
    }
    if (server.chunksServed() < chunks) {
      throw new IllegalStateException(
          "The chunk server acknowledged "
              + server.chunksServed()
              + " chunks of "
              + chunks
              + "; the download cannot have been complete.");
    }
  }

  /**
   * CPU clock ticks (user + system) of this process's live threads so far, keyed by thread name
   * with trailing digits and separators dropped ("mqtt-worker", "C2 CompilerThre", ...) and "/" the
   * thread's id, from /proc/self/task (100 ticks per second); empty where there is no /proc.
   */
  static Map<String, Long> threadTicks() {
    Map<String, Long> ticks = new java.util.TreeMap<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : tasks.toList()) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long used = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
          if (!name.startsWith("com.hivemq.clie")) { // the event loops: by their Java names below
            ticks.put(name.replaceAll("[-#_ 0-9]+$", "") + "/" + t.getFileName(), used);
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    // The client's Netty event loops, one per connection here (their names are cut to 15
    // characters in /proc): the controller's connection connects first and takes the lowest one.
    var mx = java.lang.management.ManagementFactory.getThreadMXBean();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("com.hivemq.client")) {
        long nanos = mx.getThreadCpuTime(t.threadId());
        if (nanos > 0) {
          ticks.put(t.getName() + "/" + t.threadId(), nanos / 10_000_000);
        }
      }
    }
    return ticks;
  }

  /**
   * The CPU seconds of the threads alive at the second {@link #threadTicks} snapshot since the
   * first (all of it for threads started in between), summed by name, largest first.
   */
  static String split(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> byName = new java.util.TreeMap<>();
    after.forEach(
        (k, v) ->
            byName.merge(
                k.substring(0, k.lastIndexOf('/')), v - before.getOrDefault(k, 0L), Long::sum));
    StringBuilder out = new StringBuilder();
    byName.entrySet().stream()
        .filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(
            e ->
                out.append(out.isEmpty() ? "" : ", ")
                    .append(e.getKey())
                    .append(String.format(" %.2f", e.getValue() / 100.0)));
    return out.isEmpty() ? "not available (no /proc)" : out.toString();
  }

  /** The 1, 5 and 15 minute load averages, as uptime prints them. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return String.format(
          "%.2f",
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  /**
   * Requests every chunk of {@code file}, {@value #PER_REQUEST} per request with at most {@value
   * #OUTSTANDING} requested and not yet received, and waits for all of them.
   *
   * @return MB/s from the first request to the last chunk, and the CPU it took
   */
  static Transfer download(
      String url, NodeTopics node, String assignmentId, BundleFile file, boolean verify)
      throws Exception {
    int total = file.chunks().size();
    BitSet got = new BitSet(total);
    AtomicLong bytes = new AtomicLong();
    AtomicReference<String> failure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    int[] requested = {0};
    MessageDigest sha = verify ? sha256() : null;
    MqttSettings settings =
        MqttSettings.builder(url, node.node()).receiveMaximum(OUTSTANDING).build();
    try (MqttConnection c = MqttConnection.create(settings)) {
      // Runs on the layer's one worker thread; `got` guards the state it shares with the first
      // requests sent from this thread below.
      c.subscribe(
          node.updateChunk(),
          1,
          m -> {
            synchronized (got) {
              if (failure.get() != null) {
                return;
              }
              String problem = accept(m, file, got, sha);
              if (problem != null) {
                failure.set(problem);
                done.countDown();
                return;
              }
              bytes.addAndGet(m.payloadSize());
              if (got.cardinality() == total) {
                done.countDown();
                return;
              }
              requested[0] = requestMore(c, node, assignmentId, file, requested[0], got);
            }
          });
      c.start();
      if (!c.awaitConnected(Duration.ofSeconds(20))) {
        throw new IllegalStateException("The downloader did not connect: " + c.lastError());
      }
      long t0 = System.nanoTime();
      long cpu0 = processCpuNanos();
      // The first requests go from here, later ones from the handler as chunks arrive.
      synchronized (got) {
        requested[0] = requestMore(c, node, assignmentId, file, 0, got);
      }
      if (!done.await(30, TimeUnit.MINUTES)) {
        throw new IllegalStateException(
            "The download stalled at " + got.cardinality() + " of " + total + " chunks.");
      }
      long nanos = System.nanoTime() - t0;
      long cpu = processCpuNanos() - cpu0;
      if (failure.get() != null) {
        throw new IllegalStateException(failure.get());
      }
      return new Transfer(
          bytes.get() / 1e6 / (nanos / 1e9),
          cpu / 1e9 / (bytes.get() / (double) (1L << 30)),
          cpu / (double) nanos);
    }
  }

  /**
   * The server alone, to C clients: {@code mosquitto_sub} takes the chunks on the node's chunk
   * topic and prints each one's size ({@code -F %l}), and a {@code mosquitto_pub -l} on its own
   * connection publishes each request line written to it; this thread only reads the sizes and
   * writes the next {@value #PER_REQUEST}-chunk request whenever that keeps at most {@value
   * #OUTSTANDING} chunks requested and not received, as {@link #download} does. (Requesting all at
   * once does not work: Mosquitto drops QoS 1 messages queued past its max_queued_messages, 1000,
   * for a subscriber that falls behind.) Checks the count and size of every chunk, not its header.
   *
   * @return MB/s from the first request to the last chunk; the CPU is this JVM's (the server's,
   *     plus this thread's piping)
   */
  static Transfer mosquittoDownload(
      URI broker, NodeTopics node, String assignmentId, BundleFile file)
      throws IOException, InterruptedException {
    int total = file.chunks().size();
    Process sub =
        new ProcessBuilder(
                mosquittoCommand(
                    "mosquitto_sub",
                    broker,
                    node.updateChunk(),
                    "-C",
                    Integer.toString(total),
                    "-F",
                    "%l"))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    Process pub =
        new ProcessBuilder(mosquittoCommand("mosquitto_pub", broker, node.updateRequest(), "-l"))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try (var sizes =
            new BufferedReader(
                new InputStreamReader(sub.getInputStream(), StandardCharsets.US_ASCII));
        var requests = pub.getOutputStream()) {
      Thread.sleep(700); // as in mosquittoTools: let both connect and the subscriber subscribe
      long t0 = System.nanoTime();
      long cpu0 = processCpuNanos();
      int requested = 0;
      int received = 0;
      long bytes = 0;
      while (received < total) {
        while (requested < total && requested - received + PER_REQUEST <= OUTSTANDING) {
          int count = Math.min(PER_REQUEST, total - requested);
          ChunkRequest r =
              ChunkRequest.range(
                  "m" + requested, assignmentId, file.name(), requested, count, node.updateChunk());
          requests.write(Json.write(r));
          requests.write('\n');
          requested += count;
        }
        requests.flush();
        String line = sizes.readLine();
        if (line == null) {
          throw new IllegalStateException(
              "mosquitto_sub ended after " + received + " of " + total + " chunks.");
        }
        long expected = Math.min(CHUNK, file.sizeBytes() - (long) received * CHUNK);
        if (Long.parseLong(line.trim()) != expected) {
          throw new IllegalStateException(
              "Message "
                  + received
                  + " on the chunk topic has "
                  + line
                  + " bytes, expected "
                  + expected
                  + " (an error reply instead of a chunk?).");
        }
        bytes += expected;
        received++;
      }
      long nanos = System.nanoTime() - t0;
      long cpu = processCpuNanos() - cpu0;
      requests.close(); // mosquitto_pub -l ends at the end of its input
      if (!sub.waitFor(1, TimeUnit.MINUTES) || !pub.waitFor(1, TimeUnit.MINUTES)) {
        throw new IllegalStateException("mosquitto_sub or mosquitto_pub did not exit.");
      }
      if (pub.exitValue() != 0 || sub.exitValue() != 0) {
        throw new IllegalStateException(
            "mosquitto_pub exited with "
                + pub.exitValue()
                + ", mosquitto_sub with "
                + sub.exitValue()
                + "; see their messages above.");
      }
      return new Transfer(
          bytes / 1e6 / (nanos / 1e9),
          cpu / 1e9 / (bytes / (double) (1L << 30)),
          cpu / (double) nanos);
    } finally {
      sub.destroy();
      pub.destroy();
    }
  }

  /** Sends range requests while fewer than {@value #OUTSTANDING} chunks are outstanding. */
  private static int requestMore(
      MqttConnection c,
      NodeTopics node,
      String assignmentId,
      BundleFile file,
      int requested,
      BitSet got) {
    int total = file.chunks().size();
    while (requested < total && requested - got.cardinality() + PER_REQUEST <= OUTSTANDING) {
      int count = Math.min(PER_REQUEST, total - requested);
      ChunkRequest r =
          ChunkRequest.range(
              "r" + requested, assignmentId, file.name(), requested, count, node.updateChunk());
      c.publish(Message.of(node.updateRequest(), Json.write(r), 1, false));
      requested += count;
    }
    return requested;
  }

  /** Checks one received message; null when it is a new, well-formed chunk, else the problem. */
  private static String accept(Message m, BundleFile file, BitSet got, MessageDigest sha) {
    Map<String, String> props = new LinkedHashMap<>();
    m.userProperties().forEach(e -> props.putIfAbsent(e.getKey(), e.getValue()));
    ChunkHeader h;
    try {
      h = ChunkHeader.fromUserProperties(props);
    } catch (InvalidPayloadException e) {
      return "The chunk server answered with something that is not a chunk: "
          + new String(m.payload(), StandardCharsets.UTF_8);
    }
    int i = h.index();
    long expected = Math.min(CHUNK, file.sizeBytes() - (long) i * CHUNK);
    if (i < 0 || i >= file.chunks().size() || m.payloadSize() != expected) {
      return "Chunk " + i + " has " + m.payloadSize() + " bytes, expected " + expected + ".";
    }
    if (got.get(i)) {
      return "Chunk " + i + " arrived twice.";
    }
    if (sha != null) {
      sha.update(m.payloadBuffer()); // hashes the received bytes without copying them
      String hex = HexFormat.of().formatHex(sha.digest());
      if (!hex.equals(file.chunks().get(i))) {
        return "Chunk " + i + " does not match its SHA-256.";
      }
    }
    got.set(i);
    return null;
  }

  /**
   * A Mosquitto client's command line for {@code topic} at QoS 1 on {@code broker}, then {@code
   * rest}.
   */
  private static List<String> mosquittoCommand(
      String tool, URI broker, String topic, String... rest) {
    List<String> c = new ArrayList<>();
    c.addAll(
        List.of(
            tool,
            "-h",
            broker.getHost(),
            "-p",
            Integer.toString(broker.getPort()),
            "-q",
            "1",
            "-t",
            topic));
    c.addAll(List.of(rest));
    return c;
  }

  /**
   * {@code mosquitto_pub --repeat} sends {@code messages} copies of {@code chunk} at QoS 1 while
   * {@code mosquitto_sub -C} counts them.
   *
   * @return MB/s from the publisher's start to the subscriber's exit
   */
  static double mosquittoTools(URI broker, String topic, Path chunk, int messages, long bytes)
      throws IOException, InterruptedException {
    Process sub =
        new ProcessBuilder(
                mosquittoCommand(
                    "mosquitto_sub", broker, topic, "-C", Integer.toString(messages), "-N"))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    // Give the subscriber time to subscribe; a message published before would be lost.
    Thread.sleep(700);
    long t0 = System.nanoTime();
    Process pub =
        new ProcessBuilder(
                mosquittoCommand(
                    "mosquitto_pub",
                    broker,
                    topic,
                    "--repeat",
                    Integer.toString(messages),
                    "-f",
                    chunk.toString()))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    pub.waitFor();
    if (!sub.waitFor(10, TimeUnit.MINUTES)) {
      sub.destroyForcibly();
      throw new IllegalStateException(
          "mosquitto_sub did not receive all " + messages + " messages");
    }
    if (pub.exitValue() != 0 || sub.exitValue() != 0) {
      throw new IllegalStateException(
          "mosquitto_pub exited with "
              + pub.exitValue()
              + ", mosquitto_sub with "
              + sub.exitValue()
              + "; see their messages above.");
    }
    return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
  }

  private static void writeRandom(Path file, long size, long seed) throws IOException {
    Random r = new Random(seed);
    byte[] block = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long left = size; left > 0; left -= block.length) {
        r.nextBytes(block);
        out.write(block, 0, (int) Math.min(block.length, left));
      }
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
