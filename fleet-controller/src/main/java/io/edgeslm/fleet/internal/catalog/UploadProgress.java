package io.edgeslm.fleet.internal.catalog;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Server-side progress of bundle uploads, by a client-chosen upload id: what the controller does
 * with a bundle after it has received it (verifying the signature, hashing the chunks, storing),
 * which can take a while for a multi-gigabyte model and which the client cannot see from its own
 * byte count. Keeps the {@value #MAX_TRACKED} most recent uploads.
 */
public final class UploadProgress {

  public static final int MAX_TRACKED = 256;

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{7,63}");

  /** Where an upload is. */
  public enum Phase {
    /** Received and spooled; the size is known. */
    RECEIVED,
    /** The signature and every file digest are being verified against the trust store. */
    VERIFYING,
    /** Per-chunk hashes are being computed; {@code bytesDone} grows. */
    HASHING,
    /** In the catalog; {@code bundleId} is set. */
    STORED,
    /** Refused; {@code detail} says why. */
    REJECTED
  }

  /**
   * A view of one upload.
   *
   * @param uploadId the client's id
   * @param phase where it is
   * @param bytesDone bytes hashed so far (equal to {@code bytesTotal} once stored)
   * @param bytesTotal size of the uploaded files, 0 until received
   * @param bundleId the catalog id once stored, else null
   * @param detail why it was rejected, else null
   * @param startedAt when the controller started processing it
   * @param updatedAt the last change
   */
  public record Snapshot(
      String uploadId,
      Phase phase,
      long bytesDone,
      long bytesTotal,
      String bundleId,
      String detail,
      Instant startedAt,
      Instant updatedAt) {}

  /** The progress of one upload; updated by the catalog. */
  public static final class Tracker {
    private final String id;
    private final Clock clock;
    private final Instant startedAt;
    private final AtomicLong done = new AtomicLong();
    private volatile Phase phase = Phase.RECEIVED;
    private volatile long total;
    private volatile String bundleId;
    private volatile String detail;
    private volatile Instant updatedAt;

    Tracker(String id, Clock clock) {
      this.id = id;
      this.clock = clock;
      this.startedAt = clock.instant();
      this.updatedAt = startedAt;
    }

    void phase(Phase p) {
      phase = p;
      updatedAt = clock.instant();
    }

    void total(long bytes) {
      total = bytes;
      updatedAt = clock.instant();
    }

    void hashed(long bytes) {
      done.addAndGet(bytes);
      updatedAt = clock.instant();
    }

    void stored(String id) {
      bundleId = id;
      done.set(total);
      phase(Phase.STORED);
    }

    void rejected(String why) {
      detail = why;
      phase(Phase.REJECTED);
    }

    public Snapshot snapshot() {
      return new Snapshot(id, phase, done.get(), total, bundleId, detail, startedAt, updatedAt);
    }
  }

  private final Clock clock;
  private final Map<String, Tracker> uploads =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Tracker> eldest) {
          return size() > MAX_TRACKED;
        }
      };

  public UploadProgress(Clock clock) {
    this.clock = clock;
  }

  /** Whether {@code id} is an acceptable upload id: 8 to 64 of A-Z a-z 0-9 . _ - */
  public static boolean validId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** Starts tracking an upload (replacing an earlier one of the same id). */
  public synchronized Tracker start(String id) {
    Tracker t = new Tracker(id, clock);
    uploads.remove(id);
    uploads.put(id, t);
    return t;
  }

  public synchronized Optional<Snapshot> get(String id) {
    Tracker t = uploads.get(id);
    return t == null ? Optional.empty() : Optional.of(t.snapshot());
  }
}
