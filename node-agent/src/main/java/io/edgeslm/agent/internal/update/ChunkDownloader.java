package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.StagedTransfer;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.ChunkError;
import io.edgeslm.protocol.ChunkHeader;
import io.edgeslm.protocol.ChunkReply;
import io.edgeslm.protocol.ChunkRequest;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.UpdateAssignment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Pulls the missing chunks of one {@link StagedTransfer} over an {@link UpdateLink}: a bounded
 * window of {@link ChunkRequest}s (see {@link RequestPlanner}), each received chunk checked against
 * its SHA-256 from the assignment, written at its offset, and persisted in batches of a quarter of
 * the window ({@link StagedTransfer#takeBatch}: data forced, then the bitmaps). Chunks requested
 * but not yet here, plus chunks written but not yet persisted, never exceed the window ({@code
 * requestsInFlight × chunksPerRequest} chunks), so a crash costs at most one window of refetch.
 *
 * <p>A batch is persisted by a forcer thread of its own while the downloader goes on verifying and
 * writing the chunks that keep arriving; one batch at a time. A request goes out as soon as it fits
 * in the window, counting the batch being persisted: the disk's latency only costs throughput when
 * the other three quarters of the window arrive faster than a batch is forced.
 *
 * <p>Chunks arrive through {@link #offer} (the engine routes the node's {@code update/chunk} topic
 * here), which also computes each raw chunk's SHA-256 on the caller's thread (the link's own): the
 * thread that calls {@link #run} then only compares that hash with the assignment's before the
 * chunk is written and counts, and hashing the next chunks overlaps with writing this one.
 * Checking, writing and the window's bookkeeping run on the {@link #run} thread, forcing on a
 * forcer thread.
 */
public final class ChunkDownloader {

  /** Transfer tuning. */
  public record Tuning(
      int requestsInFlight,
      int chunksPerRequest,
      long idleMillis,
      long firstChunkMillis,
      long stallMillis,
      int maxCorruptChunks) {

    /**
     * 8 requests of 16 chunks: a window of 32 MiB at the default chunk size. With 16 MiB a 1 GiB
     * download through a local Mosquitto ran at about 205 MB/s, each request's first chunk waiting
     * some 50 ms behind the window ahead of it; with 32 MiB at about 290 (docs/benchmarks.md,
     * updates). The window is also the most a crash costs, and what may wait in memory for us.
     */
    public static Tuning defaults() {
      return new Tuning(8, 16, 1_500, 5_000, 120_000, 1_000);
    }

    public Tuning {
      if (stallMillis < firstChunkMillis) {
        throw new IllegalArgumentException("stallMillis must be at least firstChunkMillis");
      }
    }
  }

  /** Receives transfer progress (bytes held, bytes total), called at most every second. */
  public interface Progress {
    void update(long bytesDone, long bytesTotal);
  }

  private static final int MAX_QUEUED = 4096;

  /**
   * A received message and, for a raw chunk of this assignment, the SHA-256 of its payload (hashed
   * by {@link #offer}; {@code null} otherwise).
   */
  private record Arrival(UpdateLink.Message message, String sha256) {}

  /** Put in the inbox by the forcer when a batch is persisted, to wake {@link #run}. */
  private static final Arrival FORCED =
      new Arrival(new UpdateLink.Message("", new byte[0], Map.of()), null);

  private final StagedTransfer transfer;
  private final UpdateAssignment assignment;
  private final UpdateLink link;
  private final String replyTo;
  private final Tuning tuning;
  private final BlockingQueue<Arrival> inbox = new LinkedBlockingQueue<>(MAX_QUEUED);
  private long corrupt;
  private long duplicates;
  private long requestsSent;

  public ChunkDownloader(StagedTransfer transfer, UpdateLink link, String replyTo, Tuning tuning) {
    this.transfer = transfer;
    this.assignment = transfer.assignment();
    this.link = link;
    this.replyTo = replyTo;
    this.tuning = tuning;
  }

  /**
   * Hands a message from the chunk topic to the download (drops it if the inbox is full). A raw
   * chunk of this assignment is hashed here, on the caller's thread, so that hashing overlaps with
   * the writing on the {@link #run} thread; the hash counts only once {@link #run} has compared it
   * with the assignment's. The payload is the link's read-only buffer: the bytes hashed are the
   * bytes written.
   */
  public void offer(UpdateLink.Message m) {
    Map<String, String> p = m.userProperties();
    String sha256 =
        p.containsKey(ChunkHeader.INDEX)
                && assignment.assignmentId().equals(p.get(ChunkHeader.ASSIGNMENT_ID))
            ? BundleFile.sha256Hex(m.payloadBuffer())
            : null;
    inbox.offer(new Arrival(m, sha256));
  }

  public long corruptChunks() {
    return corrupt;
  }

  public long duplicateChunks() {
    return duplicates;
  }

  public long requestsSent() {
    return requestsSent;
  }

  /**
   * Downloads until every chunk is held, then finishes the files.
   *
   * @throws UpdateException {@code transfer_stalled} when nothing arrived for the stall time,
   *     {@code too_many_corrupt_chunks}, {@code not_found} when the controller does not know the
   *     assignment, {@code disk_full}/{@code storage_failed} when writing fails, {@code cancelled}
   */
  public void run(Progress progress, BooleanSupplier cancelled) throws UpdateException {
    long idle = TimeUnit.MILLISECONDS.toNanos(tuning.idleMillis());
    long first = TimeUnit.MILLISECONDS.toNanos(tuning.firstChunkMillis());
    RequestPlanner planner =
        new RequestPlanner(
            assignment.files().size(),
            tuning.requestsInFlight(),
            tuning.chunksPerRequest(),
            idle,
            first,
            "r" + Long.toHexString(System.nanoTime() & 0xffffff));
    // The window bounds what a crash can cost: chunks requested but not yet here, plus chunks
    // written but not yet durable (unflushed, or in the batch the forcer is persisting). A request
    // goes out only when it fits in what is left of the window, and every arrival moves one chunk
    // from the first group to the second, so together they never exceed it: a restart fetches at
    // most one window again. Every quarter window the written chunks become a batch that the
    // forcer thread persists (data forced, then the bitmaps) while this thread goes on verifying
    // and writing; its chunks count until the forcer is done, then their room is asked for again.
    Forcer forcer = new Forcer();
    long lastArrival = System.nanoTime();
    long lastBatch = lastArrival;
    long lastProgress = 0;
    int notFound = 0;
    try {
      while (!transfer.complete()) {
        if (cancelled.getAsBoolean()) {
          forcer.await();
          transfer.flush();
          throw new UpdateException(
              UpdateException.Fault.TRANSFER, ReasonCode.CANCELLED, "The download was cancelled.");
        }
        long now = System.nanoTime();
        forcer.reap();
        request(planner, forcer, now);
        Arrival m = inbox.poll(50, TimeUnit.MILLISECONDS);
        while (m != null) {
          now = System.nanoTime();
          if (m != FORCED) {
            switch (handle(m, planner, now)) {
              case NEW -> lastArrival = now;
              case NOT_FOUND -> {
                if (++notFound >= 3) {
                  throw new UpdateException(
                      UpdateException.Fault.TRANSFER,
                      ReasonCode.NOT_FOUND,
                      "The controller does not know assignment "
                          + assignment.assignmentId()
                          + " (3 refusals). It was probably withdrawn; wait for a new assignment.");
                }
              }
              default -> {}
            }
          }
          // A finished batch (FORCED wakes us for it) frees its room in the window.
          forcer.reap();
          if (transfer.unflushed() >= batchChunks() && forcer.idle()) {
            forcer.start(transfer.takeBatch());
            lastBatch = now;
          }
          // Refill as soon as there is room, not only once the inbox is drained: while we verify
          // and write a burst, the next requests are already on their way.
          request(planner, forcer, now);
          m = inbox.poll();
        }
        now = System.nanoTime();
        if (transfer.unflushed() > 0 && forcer.idle() && now - lastBatch > 1_000_000_000L) {
          forcer.start(transfer.takeBatch());
          lastBatch = now;
        }
        if (now - lastProgress > 1_000_000_000L) {
          progress.update(transfer.bytesHave(), assignment.totalBytes());
          lastProgress = now;
        }
        if (now - lastArrival > TimeUnit.MILLISECONDS.toNanos(tuning.stallMillis())) {
          forcer.await();
          transfer.flush();
          throw new UpdateException(
              UpdateException.Fault.TRANSFER,
              ReasonCode.TRANSFER_STALLED,
              "No chunk arrived for "
                  + tuning.stallMillis() / 1000
                  + " s (held "
                  + transfer.bytesHave()
                  + " of "
                  + assignment.totalBytes()
                  + " bytes). The download is kept and resumes when the assignment is retried.");
        }
      }
      forcer.await();
      progress.update(transfer.bytesHave(), assignment.totalBytes());
      transfer.finish();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UpdateException(
          UpdateException.Fault.TRANSFER,
          ReasonCode.CANCELLED,
          "Interrupted while downloading.",
          e);
    } catch (IOException e) {
      throw UpdateEngine.storageFailure("writing the download", e);
    } finally {
      // Never leave a batch persisting behind us: the caller closes the transfer next.
      forcer.close();
    }
  }

  /** Chunks per batch: a quarter of the window (at least one). */
  private int batchChunks() {
    return Math.max(1, tuning.requestsInFlight() * tuning.chunksPerRequest() / 4);
  }

  /**
   * Persists one {@link StagedTransfer.Batch} at a time on a thread of its own, and wakes the
   * downloader (a {@link #FORCED} marker in the inbox) when it is done.
   */
  private final class Forcer {
    private Thread thread;
    private StagedTransfer.Batch batch;
    private volatile boolean done;
    private volatile IOException failure;

    boolean idle() {
      return batch == null;
    }

    /** Chunks of the batch being persisted (they still count against the window). */
    int persisting() {
      return batch == null ? 0 : batch.chunks();
    }

    void start(StagedTransfer.Batch b) {
      batch = b;
      done = false;
      thread =
          Thread.ofPlatform()
              .name("update-forcer")
              .daemon(true)
              .start(
                  () -> {
                    try {
                      b.persist();
                    } catch (IOException e) {
                      failure = e;
                    } finally {
                      done = true;
                      inbox.offer(FORCED);
                    }
                  });
    }

    /**
     * Takes note of a finished batch.
     *
     * @return whether one finished
     * @throws IOException when persisting it failed
     */
    boolean reap() throws IOException {
      if (batch == null || !done) {
        return false;
      }
      batch = null;
      thread = null;
      IOException e = failure;
      if (e != null) {
        failure = null;
        throw e;
      }
      return true;
    }

    /** Waits for the batch being persisted, if any. */
    void await() throws IOException {
      join();
      reap();
    }

    /** Waits for the forcer thread without giving up on interrupts (the status is kept). */
    void close() {
      join();
    }

    private void join() {
      Thread t = thread;
      if (t == null) {
        return;
      }
      boolean interrupted = false;
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private enum Outcome {
    NEW,
    OLD,
    BAD,
    NOT_FOUND
  }

  private Outcome handle(Arrival a, RequestPlanner planner, long now)
      throws IOException, UpdateException {
    UpdateLink.Message m = a.message();
    if (m.userProperties().containsKey(ChunkHeader.INDEX)) {
      ChunkHeader h;
      try {
        h = ChunkHeader.fromUserProperties(m.userProperties());
      } catch (InvalidPayloadException e) {
        return Outcome.BAD;
      }
      return chunk(
          h.assignmentId(), h.file(), h.index(), m.payloadBuffer(), a.sha256(), planner, now);
    }
    ChunkReply reply;
    try {
      reply = Json.read(m.payload(), ChunkReply.class, UpdateAssignment.MAX_CHUNK_BYTES * 2);
    } catch (InvalidPayloadException e) {
      return Outcome.BAD;
    }
    return switch (reply) {
      case io.edgeslm.protocol.ChunkData d ->
          chunk(
              d.assignmentId(), d.file(), d.index(), ByteBuffer.wrap(d.data()), null, planner, now);
      case ChunkError e -> {
        if (e.assignmentId() != null && !e.assignmentId().equals(assignment.assignmentId())) {
          yield Outcome.OLD;
        }
        if (e.requestId() != null) {
          planner.failed(e.requestId());
        }
        if (e.code() == ErrorCode.BUSY && e.retryAfterMs() != null) {
          planner.pauseUntil(now + TimeUnit.MILLISECONDS.toNanos(e.retryAfterMs()));
          yield Outcome.OLD;
        }
        yield e.code() == ErrorCode.NOT_FOUND ? Outcome.NOT_FOUND : Outcome.OLD;
      }
    };
  }

  /**
   * @param sha256 the SHA-256 of {@code data} computed by {@link #offer}, or {@code null} to hash
   *     it here
   */
  private Outcome chunk(
      String assignmentId,
      String file,
      int index,
      ByteBuffer data,
      String sha256,
      RequestPlanner planner,
      long now)
      throws IOException, UpdateException {
    if (!assignment.assignmentId().equals(assignmentId)) {
      return Outcome.OLD;
    }
    int fi = fileIndex(file);
    if (fi < 0) {
      return Outcome.BAD;
    }
    BundleFile f = assignment.files().get(fi);
    if (index < 0 || index >= f.chunks().size()) {
      return Outcome.BAD;
    }
    if (transfer.has(fi, index)) {
      duplicates++;
      planner.received(fi, index, now);
      return Outcome.OLD;
    }
    try {
      // The hash from offer() was taken of this very buffer (read-only, shared by nobody who
      // writes).
      f.verifyChunkHash(
          index,
          data.remaining(),
          sha256 != null ? sha256 : BundleFile.sha256Hex(data),
          assignment.chunkBytes());
    } catch (InvalidPayloadException e) {
      corrupt++;
      planner.rejected(fi, index);
      if (corrupt > tuning.maxCorruptChunks()) {
        throw new UpdateException(
            UpdateException.Fault.TRANSFER,
            ReasonCode.TOO_MANY_CORRUPT_CHUNKS,
            corrupt
                + " chunks failed their SHA-256 check; the link or the server corrupts data."
                + " The download is kept; check the network path and retry the assignment.");
      }
      return Outcome.BAD;
    }
    transfer.write(fi, index, data);
    planner.received(fi, index, now);
    return Outcome.NEW;
  }

  private int fileIndex(String name) {
    List<BundleFile> files = assignment.files();
    for (int i = 0; i < files.size(); i++) {
      if (files.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  private void request(RequestPlanner planner, Forcer forcer, long now) throws IOException {
    int window = tuning.requestsInFlight() * tuning.chunksPerRequest();
    int room = window - planner.chunksInFlight() - transfer.unflushed() - forcer.persisting();
    if (room > 0 && link.isConnected()) {
      for (RequestPlanner.Ask a : planner.plan(now, transfer::missing, room)) {
        send(a);
      }
    }
  }

  private void send(RequestPlanner.Ask a) throws IOException {
    BitSet c = a.chunks();
    int firstIdx = c.nextSetBit(0);
    int count = c.cardinality();
    String file = assignment.files().get(a.fileIndex()).name();
    ChunkRequest r =
        c.length() - firstIdx == count
            ? ChunkRequest.range(
                a.requestId(), assignment.assignmentId(), file, firstIdx, count, replyTo)
            : ChunkRequest.bitmap(a.requestId(), assignment.assignmentId(), file, c, replyTo);
    try {
      link.publish(assignment.requestTopic(), Json.write(r), 1, false);
      requestsSent++;
    } catch (IOException e) {
      // Not connected: the request expires and is sent again after reconnect.
    }
  }
}
