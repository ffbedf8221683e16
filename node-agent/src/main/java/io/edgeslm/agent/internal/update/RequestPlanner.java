package io.edgeslm.agent.internal.update;

import io.edgeslm.protocol.ChunkRequest;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Decides which chunks to ask for next: pure bookkeeping, no I/O and no clock (callers pass {@code
 * nowNanos}), so it is tested without a broker.
 *
 * <p>At most {@code requestsInFlight} requests are outstanding, each for at most {@code
 * chunksPerRequest} chunks of one file that are missing and not already asked for. A request
 * expires when none of its chunks arrived for {@code idleNanos} (its first chunk gets {@code
 * firstNanos}); its remaining chunks become askable again. A request still waiting for its first
 * chunk gets {@code firstNanos} again whenever one sent before it receives its first: the server
 * works through a node's requests in order, so a request queued behind others is not overdue while
 * those are being served, however slowly (a rate-limited controller shared by many nodes); one the
 * server never got still expires {@code firstNanos} after the last of those ahead of it started.
 * Consecutive expiries without any chunk arriving double both timeouts (up to 16×), so a slow link
 * is not flooded with repeats.
 */
public final class RequestPlanner {

  /**
   * A request in flight.
   *
   * @param seq its place in sending order
   * @param started whether any of its chunks arrived
   */
  public record Pending(
      String requestId,
      long seq,
      int fileIndex,
      BitSet remaining,
      long deadline,
      boolean started) {}

  /** A request to send. */
  public record Ask(String requestId, int fileIndex, BitSet chunks) {}

  private final int fileCount;
  private final int requestsInFlight;
  private final int chunksPerRequest;
  private final long idleNanos;
  private final long firstNanos;
  private final Map<String, Pending> pending = new LinkedHashMap<>();
  private final BitSet[] asked;
  private long nextId;
  private int backoffShift;
  private long notBefore;
  private final String idPrefix;

  public RequestPlanner(
      int fileCount,
      int requestsInFlight,
      int chunksPerRequest,
      long idleNanos,
      long firstNanos,
      String idPrefix) {
    if (requestsInFlight < 1 || requestsInFlight > 64) {
      throw new IllegalArgumentException("requestsInFlight must be 1..64: got " + requestsInFlight);
    }
    if (chunksPerRequest < 1 || chunksPerRequest > ChunkRequest.MAX_CHUNKS_PER_REQUEST) {
      throw new IllegalArgumentException(
          "chunksPerRequest must be 1.."
              + ChunkRequest.MAX_CHUNKS_PER_REQUEST
              + ": got "
              + chunksPerRequest);
    }
    this.fileCount = fileCount;
    this.requestsInFlight = requestsInFlight;
    this.chunksPerRequest = chunksPerRequest;
    this.idleNanos = idleNanos;
    this.firstNanos = firstNanos;
    this.idPrefix = idPrefix;
    this.asked = new BitSet[fileCount];
    for (int i = 0; i < fileCount; i++) {
      asked[i] = new BitSet();
    }
  }

  /**
   * Expires idle requests and returns the new requests to send now.
   *
   * @param missing the chunks still missing of file {@code i}
   */
  public List<Ask> plan(long nowNanos, IntFunction<BitSet> missing) {
    return plan(nowNanos, missing, Integer.MAX_VALUE);
  }

  /**
   * {@link #plan(long, IntFunction)} asking for at most {@code maxChunks} chunks in all: the
   * caller's room in its window. A request smaller than {@code chunksPerRequest} goes out only when
   * it takes the last askable chunks of its file; otherwise the caller waits for more room.
   */
  public List<Ask> plan(long nowNanos, IntFunction<BitSet> missing, int maxChunks) {
    expire(nowNanos);
    List<Ask> out = new ArrayList<>();
    if (nowNanos - notBefore < 0) {
      return out;
    }
    int room = maxChunks;
    for (int f = 0; f < fileCount && pending.size() < requestsInFlight && room > 0; f++) {
      BitSet candidates = (BitSet) missing.apply(f).clone();
      candidates.andNot(asked[f]);
      while (!candidates.isEmpty() && pending.size() < requestsInFlight && room > 0) {
        int size = Math.min(chunksPerRequest, room);
        if (size < chunksPerRequest && size < candidates.cardinality()) {
          return out;
        }
        BitSet chunks = new BitSet();
        int n = 0;
        for (int i = candidates.nextSetBit(0);
            i >= 0 && n < size;
            i = candidates.nextSetBit(i + 1)) {
          chunks.set(i);
          n++;
        }
        room -= n;
        candidates.andNot(chunks);
        asked[f].or(chunks);
        String id = idPrefix + "-" + (++nextId);
        long timeout = firstNanos << backoffShift;
        pending.put(
            id, new Pending(id, nextId, f, (BitSet) chunks.clone(), nowNanos + timeout, false));
        out.add(new Ask(id, f, chunks));
      }
    }
    return out;
  }

  /** A chunk arrived and verified (or was already held): it is no longer outstanding. */
  public void received(int fileIndex, int chunk, long nowNanos) {
    backoffShift = 0;
    Iterator<Pending> it = pending.values().iterator();
    while (it.hasNext()) {
      Pending p = it.next();
      if (p.fileIndex() == fileIndex && p.remaining().get(chunk)) {
        p.remaining().clear(chunk);
        asked[fileIndex].clear(chunk);
        it.remove();
        if (!p.remaining().isEmpty()) {
          pending.put(
              p.requestId(),
              new Pending(
                  p.requestId(),
                  p.seq(),
                  fileIndex,
                  p.remaining(),
                  nowNanos + (idleNanos << backoffShift),
                  true));
        }
        if (!p.started()) {
          queuedBehind(p.seq(), nowNanos);
        }
        return;
      }
    }
  }

  /**
   * The request sent as {@code seq} got its first chunk: those sent after it that still wait for
   * their first get {@code firstNanos} from now.
   */
  private void queuedBehind(long seq, long nowNanos) {
    long deadline = nowNanos + (firstNanos << backoffShift);
    for (Map.Entry<String, Pending> e : pending.entrySet()) {
      Pending q = e.getValue();
      if (!q.started() && q.seq() > seq && q.deadline() - deadline < 0) {
        e.setValue(
            new Pending(q.requestId(), q.seq(), q.fileIndex(), q.remaining(), deadline, false));
      }
    }
  }

  /** A chunk arrived but failed its hash: ask for it again soon. */
  public void rejected(int fileIndex, int chunk) {
    for (Pending p : pending.values()) {
      if (p.fileIndex() == fileIndex && p.remaining().get(chunk)) {
        p.remaining().clear(chunk);
      }
    }
    asked[fileIndex].clear(chunk);
    pending.values().removeIf(p -> p.remaining().isEmpty());
  }

  /** The controller asked us to wait (ChunkError busy): no new requests before then. */
  public void pauseUntil(long nanos) {
    notBefore = nanos;
  }

  /** A request was refused (ChunkError): forget it so its chunks can be asked again. */
  public void failed(String requestId) {
    Pending p = pending.remove(requestId);
    if (p != null) {
      asked[p.fileIndex()].andNot(p.remaining());
    }
  }

  /** Outstanding requests. */
  public int inFlight() {
    return pending.size();
  }

  /** Chunks asked for and not yet received. */
  public int chunksInFlight() {
    int n = 0;
    for (Pending p : pending.values()) {
      n += p.remaining().cardinality();
    }
    return n;
  }

  private void expire(long now) {
    boolean any = false;
    Iterator<Pending> it = pending.values().iterator();
    while (it.hasNext()) {
      Pending p = it.next();
      if (now - p.deadline() >= 0) {
        asked[p.fileIndex()].andNot(p.remaining());
        it.remove();
        any = true;
      }
    }
    if (any && backoffShift < 4) {
      backoffShift++;
    }
  }
}
