package io.edgeslm.agent.internal.store;

import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.UpdateAssignment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;

/**
 * A download in the staging area, resumable across power loss.
 *
 * <pre>
 * staging/{assignmentId}/
 *   bundle/{file}            the files, written at chunk offsets (sparse until complete)
 *   state/assignment.json    the assignment as received
 *   state/{n}.bits           bitmap of chunks of file n that are written and forced, in two slots
 *                            written in turn ({@link BitmapSlots})
 * </pre>
 *
 * <p>A chunk's bit is persisted only after its bytes were forced ({@link #flush}: data files first,
 * then each bitmap, in place: a torn write leaves the slot before it), so after a crash every bit
 * set names bytes that are on disk and match their chunk hash; chunks received after the last flush
 * are fetched again. A {@code state/{n}.have} file (one bitmap replaced atomically per flush, as
 * agents before the slots wrote it) is still read when there is no slot record yet. The bundle
 * directory is never loaded from here: it is verified as a whole first and then moved into the
 * store.
 *
 * <p>Not thread-safe, with one exception: a flush may be split into {@link #takeBatch} (on the
 * owning thread) and {@link Batch#persist} (on any one thread, while the owner goes on writing), so
 * that forcing overlaps receiving. At most one batch may be persisting at a time, and none while
 * {@link #flush}, {@link #finish} or {@link #close} run.
 */
public final class StagedTransfer implements AutoCloseable {

  public static final String BUNDLE_DIR = "bundle";

  private static final String BITS_SUFFIX = ".bits";

  private final Path dir;
  private final Path bundleDir;
  private final Path stateDir;
  private final UpdateAssignment assignment;
  private final BitSet[] have;
  private final boolean[] dirty;
  private final FileChannel[] channels;
  private final BitmapSlots[] slots;
  private long bytesHave;
  private int unflushed;

  private StagedTransfer(Path dir, UpdateAssignment a) {
    this.dir = dir;
    this.bundleDir = dir.resolve(BUNDLE_DIR);
    this.stateDir = dir.resolve("state");
    this.assignment = a;
    int n = a.files().size();
    this.have = new BitSet[n];
    this.dirty = new boolean[n];
    this.channels = new FileChannel[n];
    this.slots = new BitmapSlots[n];
  }

  /**
   * Opens the transfer for {@code a} in {@code dir}: resumes it when the directory holds the same
   * assignment (same files, sizes and chunk hashes), starts afresh otherwise.
   *
   * @return the transfer; {@link #resumed()} says whether earlier chunks were kept
   */
  public static StagedTransfer open(Path dir, UpdateAssignment a) throws IOException {
    StagedTransfer t = new StagedTransfer(dir, a);
    t.init();
    return t;
  }

  private boolean resumed;

  private void init() throws IOException {
    Path saved = stateDir.resolve("assignment.json");
    boolean same = false;
    if (Files.isRegularFile(saved, LinkOption.NOFOLLOW_LINKS)) {
      try {
        UpdateAssignment old =
            Json.read(
                Files.readAllBytes(saved),
                UpdateAssignment.class,
                UpdateAssignment.MAX_PAYLOAD_BYTES);
        same =
            old.files().equals(assignment.files()) && old.chunkBytes() == assignment.chunkBytes();
      } catch (InvalidPayloadException e) {
        same = false;
      }
    }
    if (!same) {
      AtomicFiles.deleteTree(bundleDir);
      AtomicFiles.deleteTree(stateDir);
    }
    Files.createDirectories(stateDir);
    Files.createDirectories(bundleDir);
    if (!same) {
      AtomicFiles.write(saved, Json.write(assignment));
    }
    List<BundleFile> files = assignment.files();
    for (int i = 0; i < files.size(); i++) {
      BundleFile f = files.get(i);
      Path target = filePath(f.name());
      Files.createDirectories(target.getParent());
      slots[i] = BitmapSlots.open(stateDir.resolve(i + BITS_SUFFIX), bitmapBytes(f));
      Path legacy = stateDir.resolve(i + ".have");
      BitSet b = new BitSet(f.chunks().size());
      if (same && Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
        Optional<byte[]> recorded = slots[i].recovered();
        if (recorded.isPresent()) {
          b = BitSet.valueOf(recorded.get());
        } else if (Files.isRegularFile(legacy, LinkOption.NOFOLLOW_LINKS)) {
          b = BitSet.valueOf(Files.readAllBytes(legacy));
        }
        if (b.length() > f.chunks().size()) {
          b = new BitSet(f.chunks().size());
        }
      }
      have[i] = b;
      channels[i] =
          FileChannel.open(
              target,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.READ,
              LinkOption.NOFOLLOW_LINKS);
      for (int c = b.nextSetBit(0); c >= 0; c = b.nextSetBit(c + 1)) {
        bytesHave += chunkLength(f, c);
      }
      resumed |= !b.isEmpty();
    }
  }

  /**
   * The chunks of file {@code fileIndex} whose bits are on disk in the transfer at {@code dir}
   * (what a resume would keep), read beside a running transfer without opening it: for tests that
   * watch what a crash would cost.
   */
  public static BitSet durableChunks(Path dir, UpdateAssignment a, int fileIndex)
      throws IOException {
    Path file = dir.resolve("state").resolve(fileIndex + BITS_SUFFIX);
    return BitmapSlots.read(file, bitmapBytes(a.files().get(fileIndex)))
        .map(BitSet::valueOf)
        .orElseGet(BitSet::new);
  }

  private static int bitmapBytes(BundleFile f) {
    return (f.chunks().size() + 7) / 8;
  }

  /** Resolves a file name from the assignment inside the bundle directory, refusing escapes. */
  private Path filePath(String name) throws IOException {
    Path p = bundleDir.resolve(name).normalize();
    if (!p.startsWith(bundleDir) || p.equals(bundleDir)) {
      throw new IOException(
          "File name '" + name + "' leaves the staging directory; the assignment is refused.");
    }
    return p;
  }

  public UpdateAssignment assignment() {
    return assignment;
  }

  public boolean resumed() {
    return resumed;
  }

  /** The directory holding the bundle's files. */
  public Path bundleDirectory() {
    return bundleDir;
  }

  public Path directory() {
    return dir;
  }

  /** Chunks of file {@code fileIndex} not yet held. */
  public BitSet missing(int fileIndex) {
    BitSet m = new BitSet();
    m.set(0, assignment.files().get(fileIndex).chunks().size());
    m.andNot(have[fileIndex]);
    return m;
  }

  public boolean has(int fileIndex, int chunk) {
    return have[fileIndex].get(chunk);
  }

  public long bytesHave() {
    return bytesHave;
  }

  public boolean complete() {
    for (int i = 0; i < have.length; i++) {
      if (have[i].cardinality() != assignment.files().get(i).chunks().size()) {
        return false;
      }
    }
    return true;
  }

  /** Chunks written since the last {@link #flush}. */
  public int unflushed() {
    return unflushed;
  }

  /**
   * Writes a chunk whose hash the caller has checked ({@link BundleFile#verifyChunk}). A chunk
   * already held is ignored (duplicates are normal under at-least-once delivery).
   *
   * @return whether the chunk was new
   */
  public boolean write(int fileIndex, int chunk, byte[] data) throws IOException {
    return write(fileIndex, chunk, ByteBuffer.wrap(data));
  }

  /**
   * {@link #write(int, int, byte[])} for the remaining bytes of {@code data} (a received payload,
   * written where it is); its position is left unchanged.
   */
  public boolean write(int fileIndex, int chunk, ByteBuffer data) throws IOException {
    if (have[fileIndex].get(chunk)) {
      return false;
    }
    long offset = (long) chunk * assignment.chunkBytes();
    ByteBuffer buf = data.duplicate();
    int length = buf.remaining();
    int start = buf.position();
    FileChannel ch = channels[fileIndex];
    while (buf.hasRemaining()) {
      ch.write(buf, offset + buf.position() - start);
    }
    have[fileIndex].set(chunk);
    dirty[fileIndex] = true;
    bytesHave += length;
    unflushed++;
    return true;
  }

  /** Forces the written data, then persists the bitmaps of files that changed. */
  public void flush() throws IOException {
    takeBatch().persist();
  }

  /**
   * Takes the chunks written since the last flush or batch as a batch to persist: a copy of the
   * bitmaps of the files that changed. {@link #unflushed} starts again from zero; the chunks count
   * as held at once ({@link #has}), but survive a crash only once the batch is persisted.
   */
  public Batch takeBatch() {
    int n = have.length;
    FileChannel[] force = new FileChannel[n];
    byte[][] bits = new byte[n][];
    for (int i = 0; i < n; i++) {
      if (dirty[i]) {
        force[i] = channels[i];
        bits[i] = have[i].toByteArray();
        dirty[i] = false;
      }
    }
    Batch b = new Batch(force, bits, unflushed);
    unflushed = 0;
    return b;
  }

  /**
   * Chunks written before {@link #takeBatch}, not yet durable. {@link #persist} forces the data of
   * the files concerned (with everything written to them so far), then replaces their bitmaps with
   * the copies taken: a bit on disk never names bytes that are not.
   */
  public final class Batch {
    private final FileChannel[] force;
    // Per file: the bitmap to record, or null when the file had no new chunk.
    private final byte[][] bits;
    private final int chunks;

    private Batch(FileChannel[] force, byte[][] bits, int chunks) {
      this.force = force;
      this.bits = bits;
      this.chunks = chunks;
    }

    /** Chunks in this batch. */
    public int chunks() {
      return chunks;
    }

    /**
     * Forces the data, then writes the bitmaps in place (each forced: one flush per file); may run
     * on a thread other than the owner's.
     */
    public void persist() throws IOException {
      for (FileChannel ch : force) {
        if (ch != null) {
          ch.force(false);
        }
      }
      for (int i = 0; i < bits.length; i++) {
        if (bits[i] != null) {
          slots[i].write(bits[i]);
        }
      }
    }
  }

  /**
   * Flushes and closes the files, and truncates each to its announced size (a sparse file written
   * out of order may already be right; a file of size 0 has no chunks at all).
   */
  public void finish() throws IOException {
    flush();
    for (int i = 0; i < channels.length; i++) {
      long size = assignment.files().get(i).sizeBytes();
      if (channels[i].size() != size) {
        channels[i].truncate(size);
        channels[i].force(true);
      }
    }
    close();
  }

  /** Removes the transfer's state, keeping the bundle directory (before it moves to the store). */
  public void dropState() throws IOException {
    AtomicFiles.deleteTree(stateDir);
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (FileChannel ch : channels) {
      if (ch != null && ch.isOpen()) {
        try {
          ch.close();
        } catch (IOException e) {
          first = first == null ? e : first;
        }
      }
    }
    for (BitmapSlots s : slots) {
      if (s != null) {
        try {
          s.close();
        } catch (IOException e) {
          first = first == null ? e : first;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private long chunkLength(BundleFile f, int chunk) {
    long offset = (long) chunk * assignment.chunkBytes();
    return Math.min(assignment.chunkBytes(), f.sizeBytes() - offset);
  }

  @Override
  public String toString() {
    return "StagedTransfer" + Arrays.toString(have);
  }
}
