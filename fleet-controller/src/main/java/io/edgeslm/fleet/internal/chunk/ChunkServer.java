package io.edgeslm.fleet.internal.chunk;

import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.internal.catalog.BundleFiles;
import io.edgeslm.fleet.internal.mqtt.FleetMqtt;
import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.ChunkError;
import io.edgeslm.protocol.ChunkHeader;
import io.edgeslm.protocol.ChunkRequest;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.InvalidTopicException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Topics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Answers nodes' chunk requests from the bundle store over MQTT (contract: {@code
 * docs/asyncapi.yaml}, channels {@code updateRequest} and {@code updateChunk}). Requests become
 * per-node queues of chunks; one sender thread serves the nodes round-robin, one chunk each in
 * turn, so a node pulling a large bundle never starves the others, and draws every chunk's bytes
 * from a token bucket that enforces the global bandwidth limit. Queues are bounded: past them the
 * node gets {@code busy} with a retry time.
 *
 * <p>The sender does not wait for each chunk's acknowledgement: it publishes into the connection's
 * in-flight window (the MQTT layer's back-pressure) and keeps the pipe full; a chunk the broker did
 * not take is reported to the node with {@code unavailable} from the sender thread, so that it asks
 * again.
 */
public final class ChunkServer implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(ChunkServer.class);

  /** Finds the catalog bundle of an assignment sent to a node. */
  @FunctionalInterface
  public interface AssignmentLookup {
    /**
     * @return the bundle, or empty if {@code assignmentId} was not issued to {@code nodeId}
     */
    Optional<BundleInfo> bundleOf(String nodeId, String assignmentId) throws Exception;
  }

  private record Job(
      String nodeId,
      String requestId,
      String assignmentId,
      String bundleId,
      String file,
      int index,
      long offset,
      int length,
      String replyTo,
      List<Map.Entry<String, String>> header) {}

  /** Direct buffers kept for chunk payloads (bytes at most {@value} in all). */
  private static final long POOL_BYTES = 64L << 20;

  private record Failed(Job job, String reason) {}

  private final MqttConnection mqtt;
  private final BundleFiles files;
  private final AssignmentLookup lookup;
  private final TokenBucket bandwidth;
  private final int maxNodes;
  private final int maxChunksPerNode;
  private final Map<String, ArrayDeque<Job>> queues = new HashMap<>();
  private final ArrayDeque<String> turn = new ArrayDeque<>();
  // Chunks whose publish failed after the sender moved on, with the reason; guarded by lock.
  private final List<Failed> failed = new ArrayList<>();
  private final Object lock = new Object();
  private final Thread sender;
  private final AtomicLong bytesServed = new AtomicLong();
  private final AtomicLong chunksServed = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  // Bundle files open for the chunks queued now; used and closed by the sender thread only.
  private final Map<String, BundleFiles.Reader> open = new HashMap<>();
  // Direct buffers whose chunk the broker acknowledged, for the next chunks: the file is read
  // straight into them and the network writes them without a copy through the heap.
  private final BlockingQueue<ByteBuffer> pool = new LinkedBlockingQueue<>();
  private final AtomicLong pooledBytes = new AtomicLong();
  private volatile boolean running = true;

  /**
   * @param bytesPerSecond global bandwidth limit for chunk payloads
   * @param maxNodes nodes with queued chunks at once
   * @param maxChunksPerNode queued chunks per node
   */
  public ChunkServer(
      MqttConnection mqtt,
      BundleFiles files,
      AssignmentLookup lookup,
      long bytesPerSecond,
      int maxNodes,
      int maxChunksPerNode) {
    this.mqtt = mqtt;
    this.files = files;
    this.lookup = lookup;
    this.bandwidth = new TokenBucket(bytesPerSecond);
    this.maxNodes = maxNodes;
    this.maxChunksPerNode = maxChunksPerNode;
    this.sender = new Thread(this::sendLoop, "fleet-chunk-sender");
    sender.setDaemon(true);
    sender.start();
  }

  /** The MQTT handler for {@code $share/fleet/edge/v1/+/+/update/request}. */
  public void onRequest(Message message) {
    String topic = message.topic();
    Topics.ParsedTopic from;
    try {
      from = Topics.parse(topic);
    } catch (InvalidTopicException e) {
      return;
    }
    NodeTopics node = from.nodeTopics();
    ChunkRequest req;
    try {
      req = Json.read(message.payload(), ChunkRequest.class, 64 * 1024);
    } catch (InvalidPayloadException e) {
      error(node.updateChunk(), null, null, e.code(), e.getMessage(), null);
      return;
    }
    // Replies go only to the requesting node's own topics: a request must not make the controller
    // publish (large) chunks to another node or anywhere else.
    String replyTo = req.replyTo();
    if (!replyTo.startsWith(node.prefix())) {
      error(
          node.updateChunk(),
          req.requestId(),
          req.assignmentId(),
          ErrorCode.INVALID,
          "replyTo must be a topic of the requesting node (below "
              + node.prefix()
              + "): got '"
              + replyTo
              + "'. Use the node's update/chunk topic.",
          null);
      return;
    }
    Optional<BundleInfo> bundle;
    try {
      bundle = lookup.bundleOf(node.node(), req.assignmentId());
    } catch (Exception e) {
      LOG.warnf(e, "looking up assignment %s failed", req.assignmentId());
      error(
          replyTo,
          req.requestId(),
          req.assignmentId(),
          ErrorCode.UNAVAILABLE,
          "The controller cannot look up the assignment right now. Retry later.",
          5000L);
      return;
    }
    if (bundle.isEmpty()) {
      error(
          replyTo,
          req.requestId(),
          req.assignmentId(),
          ErrorCode.NOT_FOUND,
          "Assignment '"
              + req.assignmentId()
              + "' was not issued to node '"
              + node.node()
              + "'. Drop it and wait for the retained assignment.",
          null);
      return;
    }
    BundleInfo b = bundle.get();
    Optional<BundleFile> file =
        b.files().stream().filter(f -> f.name().equals(req.file())).findFirst();
    if (file.isEmpty()) {
      error(
          replyTo,
          req.requestId(),
          req.assignmentId(),
          ErrorCode.NOT_FOUND,
          "Bundle '"
              + b.bundleId()
              + "' has no file '"
              + req.file()
              + "'. Request a file the"
              + " assignment lists.",
          null);
      return;
    }
    BundleFile f = file.get();
    BitSet wanted = req.wanted();
    if (wanted.length() > f.chunks().size()) {
      error(
          replyTo,
          req.requestId(),
          req.assignmentId(),
          ErrorCode.NOT_FOUND,
          "File '"
              + f.name()
              + "' has "
              + f.chunks().size()
              + " chunks: chunk "
              + (wanted.length() - 1)
              + " does not exist. Request indexes below "
              + f.chunks().size()
              + ".",
          null);
      return;
    }
    synchronized (lock) {
      ArrayDeque<Job> q = queues.get(node.node());
      int queued = q == null ? 0 : q.size();
      if ((q == null && queues.size() >= maxNodes)
          || queued + wanted.cardinality() > maxChunksPerNode) {
        refused.incrementAndGet();
        long retry = Math.max(1000, 1000L * queuedBytes() / Math.max(1, bandwidth.rate()));
        error(
            replyTo,
            req.requestId(),
            req.assignmentId(),
            ErrorCode.BUSY,
            "The chunk server is at its queue limit ("
                + queues.size()
                + " nodes waiting). Retry"
                + " after retryAfterMs.",
            Math.min(retry, 600_000));
        return;
      }
      if (q == null) {
        q = new ArrayDeque<>();
        queues.put(node.node(), q);
        turn.addLast(node.node());
      }
      // The header's user properties but index and offset, built (and checked) once per request.
      List<Map.Entry<String, String>> header =
          ChunkHeader.of(req.requestId(), req.assignmentId(), f.name(), 0, 0L)
              .toUserProperties()
              .entrySet()
              .stream()
              .filter(
                  e ->
                      !e.getKey().equals(ChunkHeader.INDEX)
                          && !e.getKey().equals(ChunkHeader.OFFSET))
              .map(e -> Map.entry(e.getKey(), e.getValue()))
              .toList();
      for (int i = wanted.nextSetBit(0); i >= 0; i = wanted.nextSetBit(i + 1)) {
        q.addLast(
            new Job(
                node.node(),
                req.requestId(),
                req.assignmentId(),
                b.bundleId(),
                f.name(),
                i,
                (long) i * b.chunkBytes(),
                f.chunkLength(i, b.chunkBytes()),
                replyTo,
                header));
      }
      lock.notifyAll();
    }
  }

  private long queuedBytes() {
    long n = 0;
    for (ArrayDeque<Job> q : queues.values()) {
      for (Job j : q) {
        n += j.length();
      }
    }
    return n;
  }

  private void sendLoop() {
    while (running) {
      Job job;
      List<Failed> failures;
      synchronized (lock) {
        if (turn.isEmpty() && failed.isEmpty()) {
          closeFiles();
        }
        while (running && turn.isEmpty() && failed.isEmpty()) {
          try {
            lock.wait(500);
          } catch (InterruptedException e) {
            closeFiles();
            return;
          }
        }
        if (!running) {
          closeFiles();
          return;
        }
        failures = List.copyOf(failed);
        failed.clear();
        job = null;
        String nodeId = turn.pollFirst();
        if (nodeId != null) {
          ArrayDeque<Job> q = queues.get(nodeId);
          job = q.pollFirst();
          if (q.isEmpty()) {
            queues.remove(nodeId);
          } else {
            turn.addLast(nodeId);
          }
        }
      }
      for (Failed f : failures) {
        unavailable(f.job(), f.reason());
      }
      if (job == null) {
        continue;
      }
      try {
        send(job);
      } catch (InterruptedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        unavailable(job, e.getMessage());
      }
    }
  }

  /**
   * Publishes one chunk; returns once the layer took it (when its in-flight window had room), not
   * when the broker acknowledged it.
   */
  private void send(Job job) throws IOException, InterruptedException {
    bandwidth.acquire(job.length());
    ByteBuffer bytes = buffer(job.length());
    try {
      reader(job).read(job.offset(), bytes);
    } catch (IOException | RuntimeException e) {
      recycle(bytes);
      throw e;
    }
    bytes.flip();
    List<Map.Entry<String, String>> props = new ArrayList<>(job.header().size() + 2);
    props.addAll(job.header());
    props.add(Map.entry(ChunkHeader.INDEX, Integer.toString(job.index())));
    props.add(Map.entry(ChunkHeader.OFFSET, Long.toString(job.offset())));
    // The buffer is handed over without a copy; it comes back to the pool once the broker has
    // acknowledged the chunk, when the client no longer needs its bytes.
    Message chunk =
        Message.wrap(job.replyTo(), bytes, 1, false)
            .withUserProperties(props)
            .withContentType(ChunkHeader.CONTENT_TYPE);
    mqtt.publish(chunk)
        .whenComplete(
            (ok, e) -> {
              if (e == null) {
                bytesServed.addAndGet(job.length());
                chunksServed.incrementAndGet();
                recycle(bytes);
              } else {
                // Runs on the client's network thread, which must not publish: the sender
                // reports it. The buffer is not reused: the client may still hold it.
                if (bytes.isDirect()) {
                  pooledBytes.addAndGet(-bytes.capacity());
                }
                synchronized (lock) {
                  failed.add(new Failed(job, e.getMessage()));
                  lock.notifyAll();
                }
              }
            });
  }

  /** The open file of a job's bundle, opened on its first chunk. */
  private BundleFiles.Reader reader(Job job) throws IOException {
    String key = job.bundleId() + "/" + job.file();
    BundleFiles.Reader r = open.get(key);
    if (r == null) {
      r = files.open(job.bundleId(), job.file());
      open.put(key, r);
    }
    return r;
  }

  /** Closes the files opened for chunks: runs when no chunk is queued. */
  private void closeFiles() {
    for (BundleFiles.Reader r : open.values()) {
      try {
        r.close();
      } catch (IOException e) {
        LOG.debugf("closing a bundle file: %s", e.getMessage());
      }
    }
    open.clear();
  }

  /**
   * A cleared buffer of {@code length} bytes: a pooled direct one when one is free, a new direct
   * one while the pool is below {@value #POOL_BYTES} bytes, else (a full window of chunks larger
   * than the pool) one on the heap.
   */
  private ByteBuffer buffer(int length) {
    ByteBuffer b;
    while ((b = pool.poll()) != null) {
      if (b.capacity() >= length) {
        return b.clear().limit(length);
      }
      pooledBytes.addAndGet(-b.capacity()); // smaller than this bundle's chunks: let it go
    }
    if (pooledBytes.addAndGet(length) <= POOL_BYTES) {
      return ByteBuffer.allocateDirect(length);
    }
    pooledBytes.addAndGet(-length);
    return ByteBuffer.allocate(length);
  }

  private void recycle(ByteBuffer b) {
    if (b.isDirect()) {
      pool.offer(b);
    }
  }

  private void unavailable(Job job, String reason) {
    LOG.warnf(
        "serving chunk %d of %s to %s failed: %s", job.index(), job.file(), job.nodeId(), reason);
    error(
        job.replyTo(),
        job.requestId(),
        job.assignmentId(),
        ErrorCode.UNAVAILABLE,
        "The controller could not send chunk "
            + job.index()
            + " of '"
            + job.file()
            + "' ("
            + reason
            + "). Request it again.",
        2000L);
  }

  private void error(
      String topic,
      String requestId,
      String assignmentId,
      ErrorCode code,
      String message,
      Long retryAfterMs) {
    String text = message.length() > 1000 ? message.substring(0, 999) + "…" : message;
    ChunkError e =
        new ChunkError(
            Protocol.SCHEMA_VERSION,
            safeId(requestId),
            safeId(assignmentId),
            code,
            text,
            code == ErrorCode.BUSY && retryAfterMs == null ? 1000L : retryAfterMs);
    mqtt.publish(FleetMqtt.json(topic, Json.write(e), 1, false));
  }

  private static String safeId(String id) {
    return id != null && id.length() <= 128 && id.matches("[A-Za-z0-9][A-Za-z0-9._:-]*")
        ? id
        : null;
  }

  public long bytesServed() {
    return bytesServed.get();
  }

  public long chunksServed() {
    return chunksServed.get();
  }

  public long refused() {
    return refused.get();
  }

  @Override
  public void close() {
    running = false;
    sender.interrupt();
    try {
      sender.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
