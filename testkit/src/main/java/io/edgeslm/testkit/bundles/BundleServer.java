package io.edgeslm.testkit.bundles;

import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConfigurationException;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttSettings;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.ChunkError;
import io.edgeslm.protocol.ChunkHeader;
import io.edgeslm.protocol.ChunkRequest;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.testkit.HarnessUnavailableException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The controller's side of the update transfer, small enough for tests: it offers bundles (a
 * directory of files) as {@link UpdateAssignment}s, answers {@link ChunkRequest}s on {@code
 * edge/v1/+/+/update/request} with raw chunks and {@link ChunkHeader} user properties (the contract
 * of {@code docs/protocol.md}), and misbehaves on purpose according to its {@link Faults}.
 *
 * <p>It publishes through the project's one MQTT layer ({@link MqttConnection}, ADR 0023), the same
 * as the controller's chunk server: requests are handled on the layer's worker thread in arrival
 * order, and at most {@value #WINDOW} publishes are unacknowledged (the layer's in-flight window; a
 * publish beyond it waits).
 */
public final class BundleServer implements AutoCloseable {

  /** Unacknowledged QoS 1 publishes at most (below Mosquitto's default 20 in-flight). */
  public static final int WINDOW = 16;

  private static final String REQUEST_FILTER = "edge/v1/+/+/update/request";

  private final MqttConnection mqtt;
  private final Map<String, Offer> offers = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> served = new ConcurrentHashMap<>();
  private final ScheduledExecutorService delayer =
      Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "delay"));
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong chunks = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong duplicated = new AtomicLong();
  private final AtomicLong corrupted = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private volatile Faults faults;
  private volatile Random random;
  private volatile boolean paused;

  /** An offered bundle; each file is mapped into memory when its first chunk is asked for. */
  private record Offer(
      UpdateAssignment assignment, Path directory, Map<String, MappedByteBuffer[]> mapped) {

    Offer(UpdateAssignment assignment, Path directory) {
      this(assignment, directory, new ConcurrentHashMap<>());
    }

    /**
     * Chunk {@code index} of {@code file} as a read-only view of the file mapped into memory
     * (unmapped once unreachable): chunks are sent from the page cache without a read into a buffer
     * of their own. The file is mapped in pieces of whole chunks up to 1 GiB each (a mapped buffer
     * holds at most 2 GiB). The files must not shrink while offered.
     */
    ByteBuffer chunk(BundleFile file, int index) throws IOException {
      int chunkBytes = assignment.chunkBytes();
      long piece = (long) chunkBytes * Math.max(1, (1 << 30) / chunkBytes);
      MappedByteBuffer[] pieces = mapped.get(file.name());
      if (pieces == null) {
        Path path = directory.resolve(file.name());
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
          if (ch.size() != file.sizeBytes()) {
            throw new IOException(
                path + " has " + ch.size() + " bytes, the offer says " + file.sizeBytes());
          }
          pieces = new MappedByteBuffer[(int) ((file.sizeBytes() + piece - 1) / piece)];
          for (int p = 0; p < pieces.length; p++) {
            long from = p * piece;
            pieces[p] =
                ch.map(
                    FileChannel.MapMode.READ_ONLY, from, Math.min(piece, file.sizeBytes() - from));
          }
        }
        mapped.put(file.name(), pieces);
      }
      long offset = (long) index * chunkBytes;
      int len = (int) Math.min(chunkBytes, file.sizeBytes() - offset);
      return pieces[(int) (offset / piece)].slice((int) (offset % piece), len).asReadOnlyBuffer();
    }
  }

  private BundleServer(MqttConnection mqtt, Faults faults) {
    this.mqtt = mqtt;
    setFaults(faults);
  }

  /**
   * Connects to the broker and starts serving.
   *
   * @throws HarnessUnavailableException when the broker cannot be reached
   */
  public static BundleServer start(String brokerUrl, String clientId, Faults faults)
      throws HarnessUnavailableException {
    Objects.requireNonNull(faults, "faults");
    MqttConnection c;
    try {
      c =
          MqttConnection.create(
              MqttSettings.builder(brokerUrl, clientId)
                  .receiveMaximum(1000)
                  .inflightWindow(WINDOW)
                  .build());
    } catch (MqttConfigurationException e) {
      throw new HarnessUnavailableException(
          "Cannot create an MQTT connection for " + brokerUrl + ": " + e.getMessage(), e);
    }
    BundleServer server = new BundleServer(c, faults);
    c.subscribe(REQUEST_FILTER, 1, m -> server.handle(m.payload()));
    c.start();
    boolean up;
    try {
      up = c.awaitConnected(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      up = false;
    }
    if (!up) {
      String why = c.lastError();
      server.close();
      throw new HarnessUnavailableException(
          "The bundle server cannot connect to "
              + brokerUrl
              + ": "
              + why
              + ". Start Mosquitto (apt-get install mosquitto) or use MqttBroker.privateMosquitto().",
          null);
    }
    return server;
  }

  /** Replaces the faults (and restarts their generator from the new seed). */
  public void setFaults(Faults f) {
    this.faults = Objects.requireNonNull(f, "faults");
    this.random = new Random(f.seed());
  }

  /** While paused, requests are read and counted but not answered (a controller gone quiet). */
  public void setPaused(boolean value) {
    this.paused = value;
  }

  /**
   * Describes every regular file under {@code bundleDir} (relative POSIX names, sorted) as an
   * assignment for {@code node}, and serves it from now on. Hashing reads every file once.
   */
  public UpdateAssignment offer(
      String assignmentId,
      String bundleId,
      ModelRef model,
      Path bundleDir,
      int chunkBytes,
      NodeTopics node)
      throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(bundleDir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    List<BundleFile> described = new ArrayList<>();
    long total = 0;
    for (Path f : files) {
      String name = bundleDir.relativize(f).toString().replace('\\', '/');
      BundleFile bf = BundleFile.fromFile(name, f, chunkBytes);
      described.add(bf);
      total += bf.sizeBytes();
    }
    UpdateAssignment a =
        new UpdateAssignment(
            Protocol.SCHEMA_VERSION,
            assignmentId,
            null,
            bundleId,
            model,
            total,
            chunkBytes,
            described,
            node.updateRequest(),
            Instant.now());
    offers.put(assignmentId, new Offer(a, bundleDir));
    return a;
  }

  /** Serves an assignment built elsewhere from the files in {@code bundleDir}. */
  public void serve(UpdateAssignment assignment, Path bundleDir) {
    offers.put(assignment.assignmentId(), new Offer(assignment, bundleDir));
  }

  /** Publishes the assignment retained on the node's {@code update/assignment} topic. */
  public void publishAssignment(NodeTopics node, UpdateAssignment assignment) throws IOException {
    publishNow(node.updateAssignment(), Json.write(assignment), true);
  }

  /** Clears the retained assignment (an empty retained payload). */
  public void clearAssignment(NodeTopics node) throws IOException {
    publishNow(node.updateAssignment(), new byte[0], true);
  }

  /** Publishes any payload (commands, acknowledgements) and waits for the broker's PUBACK. */
  public void publish(String topic, byte[] payload, boolean retained) throws IOException {
    publishNow(topic, payload, retained);
  }

  /** Chunk requests received. */
  public long requests() {
    return requests.get();
  }

  /** Chunks sent, duplicates and corrupted ones included, drops not. */
  public long chunksSent() {
    return chunks.get();
  }

  /** Payload bytes of the chunks sent. */
  public long bytesSent() {
    return bytes.get();
  }

  public long dropped() {
    return dropped.get();
  }

  public long duplicated() {
    return duplicated.get();
  }

  public long corrupted() {
    return corrupted.get();
  }

  /** {@link ChunkError}s sent (unknown assignment, file or index). */
  public long errorsSent() {
    return errors.get();
  }

  /** How often chunk {@code index} of {@code file} in {@code assignmentId} was sent. */
  public long timesSent(String assignmentId, String file, int index) {
    AtomicLong n = served.get(key(assignmentId, file, index));
    return n == null ? 0 : n.get();
  }

  /** Chunks of an assignment that were sent more than once (retries, duplicates, refetches). */
  public long chunksSentMoreThanOnce(String assignmentId) {
    String prefix = assignmentId + "\u0000";
    return served.entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix) && e.getValue().get() > 1)
        .count();
  }

  /** Sends beyond the first, summed over the chunks of an assignment (what was fetched again). */
  public long resends(String assignmentId) {
    String prefix = assignmentId + "\u0000";
    return served.entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix))
        .mapToLong(e -> Math.max(0, e.getValue().get() - 1))
        .sum();
  }

  /** Forgets the per-chunk counts (e.g. between the phases of a benchmark). */
  public void resetCounts() {
    served.clear();
  }

  @Override
  public void close() {
    delayer.shutdownNow();
    mqtt.close();
  }

  private void handle(byte[] payload) {
    ChunkRequest r;
    try {
      r = Json.read(payload, ChunkRequest.class);
    } catch (InvalidPayloadException e) {
      return; // nothing to answer to: no reply topic known
    }
    requests.incrementAndGet();
    if (paused) {
      return;
    }
    Offer offer = offers.get(r.assignmentId());
    if (offer == null) {
      error(r, "Unknown assignment '" + r.assignmentId() + "'.");
      return;
    }
    BundleFile file = offer.assignment().file(r.file()).orElse(null);
    if (file == null) {
      error(r, "Assignment " + r.assignmentId() + " has no file '" + r.file() + "'.");
      return;
    }
    BitSet wanted = r.wanted();
    if (wanted.length() > file.chunks().size()) {
      error(r, "File '" + r.file() + "' has " + file.chunks().size() + " chunks.");
      return;
    }
    int chunkBytes = offer.assignment().chunkBytes();
    try {
      for (int i = wanted.nextSetBit(0); i >= 0; i = wanted.nextSetBit(i + 1)) {
        sendChunk(r, i, (long) i * chunkBytes, offer.chunk(file, i));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void sendChunk(ChunkRequest r, int index, long offset, ByteBuffer data) {
    Faults f = faults;
    Random rnd = random;
    if (rnd.nextDouble() < f.drop()) {
      dropped.incrementAndGet();
      return;
    }
    ByteBuffer out = data;
    if (data.remaining() > 0 && rnd.nextDouble() < f.corrupt()) {
      byte[] bad = new byte[data.remaining()];
      data.duplicate().get(bad);
      bad[rnd.nextInt(bad.length)] ^= 0x5A;
      out = ByteBuffer.wrap(bad);
      corrupted.incrementAndGet();
    }
    int copies = rnd.nextDouble() < f.duplicate() ? 2 : 1;
    if (copies == 2) {
      duplicated.incrementAndGet();
    }
    List<Map.Entry<String, String>> props = new ArrayList<>();
    ChunkHeader.of(r.requestId(), r.assignmentId(), r.file(), index, offset)
        .toUserProperties()
        .forEach((k, v) -> props.add(Map.entry(k, v)));
    long delayMs =
        f.maxDelay().isZero() || rnd.nextDouble() >= f.delay()
            ? 0
            : 1 + rnd.nextLong(f.maxDelay().toMillis());
    served
        .computeIfAbsent(key(r.assignmentId(), r.file(), index), k -> new AtomicLong())
        .incrementAndGet();
    // A view of the mapped file (or of the corrupted copy), not a copy: the client encodes the
    // payload from there.
    Message chunk =
        Message.wrap(r.replyTo(), out, 1, false)
            .withUserProperties(props)
            .withContentType(ChunkHeader.CONTENT_TYPE);
    for (int c = 0; c < copies; c++) {
      if (delayMs > 0) {
        delayer.schedule(() -> publishChunk(chunk), delayMs, TimeUnit.MILLISECONDS);
      } else {
        publishChunk(chunk);
      }
    }
  }

  /**
   * Publishes without waiting for the acknowledgement (the layer's window bounds what is
   * outstanding); a chunk the broker does not take is lost like a dropped one, and the node asks
   * again.
   */
  private void publishChunk(Message chunk) {
    if (!mqtt.publish(chunk).isCompletedExceptionally()) {
      chunks.incrementAndGet();
      bytes.addAndGet(chunk.payloadSize());
    }
  }

  private void error(ChunkRequest r, String message) {
    errors.incrementAndGet();
    ChunkError e =
        new ChunkError(
            Protocol.SCHEMA_VERSION,
            r.requestId(),
            r.assignmentId(),
            ErrorCode.NOT_FOUND,
            message,
            null);
    try {
      publishNow(r.replyTo(), Json.write(e), false);
    } catch (IOException ex) {
      // the node will time out and ask again
    }
  }

  /** Publishes at QoS 1 and waits for the broker's PUBACK (10 s at most). */
  private void publishNow(String topic, byte[] payload, boolean retained) throws IOException {
    try {
      mqtt.publish(Message.of(topic, payload, 1, retained)).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IOException("Publishing to " + topic + " failed: " + e.getCause().getMessage(), e);
    } catch (TimeoutException e) {
      throw new IOException("Publishing to " + topic + " got no PUBACK within 10 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Interrupted while publishing to " + topic, e);
    }
  }

  private static String key(String assignmentId, String file, int index) {
    return assignmentId + "\u0000" + file + "\u0000" + index;
  }

  private static Thread daemon(Runnable r, String what) {
    Thread t = new Thread(r, "bundle-server-" + what);
    t.setDaemon(true);
    return t;
  }
}
