package io.edgeslm.agent.internal.journal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.jboss.logging.Logger;

/**
 * A durable, bounded, ordered outbox on disk: every health message and report is appended here
 * first and removed only after the broker acknowledged it, so that a node that is offline for hours
 * replays what it wrote, in order, when it reconnects.
 *
 * <p>One file per entry, named by its sequence number ({@code 00000000000000000042.msg}), written
 * to a temporary name, forced to disk and renamed into place: an entry is either whole or absent
 * after a power cut, and order is the order of names. A file that fails its CRC (a disk fault) is
 * renamed to {@code .corrupt}, logged and skipped. Bounds on entries and bytes drop the
 * <em>oldest</em> entries, counted in {@link #dropped()}: recent state matters most to the fleet.
 *
 * <p>Sequence numbers never go backwards, across restarts too ({@code last-seq} keeps the
 * high-water mark), so a receiver can drop the duplicate that at-least-once delivery allows after a
 * connection lost between PUBACK and removal.
 *
 * <p>Thread-safe (all methods synchronized; appends are rare: seconds apart).
 */
public final class Journal {

  private static final Logger LOG = Logger.getLogger(Journal.class);
  private static final int MAGIC = 0x454a3031; // "EJ01"
  private static final int MAX_TOPIC_BYTES = 65_535;
  private static final String SUFFIX = ".msg";
  private static final String HIGH_WATER = "last-seq";

  /**
   * One journaled message.
   *
   * @param seq its sequence number, ≥ 1
   * @param topic the topic it goes to
   * @param payload its payload
   */
  public record Entry(long seq, String topic, byte[] payload) {
    public Entry {
      Objects.requireNonNull(topic, "topic");
      Objects.requireNonNull(payload, "payload");
      payload = payload.clone();
    }

    @Override
    public byte[] payload() {
      return payload.clone();
    }
  }

  private final Path dir;
  private final int maxEntries;
  private final long maxBytes;
  private final TreeMap<Long, Long> sizes = new TreeMap<>();
  private long bytes;
  private long lastSeq;
  private long dropped;

  private Journal(Path dir, int maxEntries, long maxBytes) {
    this.dir = dir;
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
  }

  /**
   * Opens (creating if needed) the journal in {@code dir} and indexes the entries already there.
   *
   * @throws IOException when the directory cannot be created or listed
   */
  public static Journal open(Path dir, int maxEntries, long maxBytes) throws IOException {
    if (maxEntries < 1 || maxBytes < 1) {
      throw new IllegalArgumentException(
          "journal bounds must be positive: got "
              + maxEntries
              + " entries, "
              + maxBytes
              + " bytes");
    }
    Files.createDirectories(dir);
    Journal j = new Journal(dir, maxEntries, maxBytes);
    j.index();
    return j;
  }

  private void index() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (name.endsWith(".tmp")) {
          Files.deleteIfExists(f); // a write that never completed
        } else if (name.endsWith(SUFFIX)) {
          try {
            long seq = Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
            long size = Files.size(f);
            sizes.put(seq, size);
            bytes += size;
            lastSeq = Math.max(lastSeq, seq);
          } catch (NumberFormatException e) {
            LOG.warnf("Ignoring a foreign file in the journal: %s", f);
          }
        }
      }
    }
    Path hw = dir.resolve(HIGH_WATER);
    if (Files.exists(hw)) {
      try {
        lastSeq = Math.max(lastSeq, Long.parseLong(Files.readString(hw).trim()));
      } catch (NumberFormatException e) {
        LOG.warnf("The journal's %s is unreadable; continuing from %d", hw, lastSeq);
      }
    }
    enforceBounds();
  }

  /**
   * Appends a message durably.
   *
   * @return its sequence number
   * @throws IOException when the entry cannot be written (disk full, read-only)
   */
  public synchronized long append(String topic, byte[] payload) throws IOException {
    byte[] topicBytes = topic.getBytes(StandardCharsets.UTF_8);
    if (topicBytes.length > MAX_TOPIC_BYTES) {
      throw new IllegalArgumentException("topic longer than " + MAX_TOPIC_BYTES + " bytes");
    }
    long seq = lastSeq + 1;
    byte[] record = encode(seq, topicBytes, payload);
    Path tmp = dir.resolve(name(seq) + ".tmp");
    writeDurably(tmp, record);
    move(tmp, dir.resolve(name(seq)));
    lastSeq = seq;
    Path hwTmp = dir.resolve(HIGH_WATER + ".tmp");
    Files.writeString(hwTmp, Long.toString(seq));
    move(hwTmp, dir.resolve(HIGH_WATER));
    sizes.put(seq, (long) record.length);
    bytes += record.length;
    enforceBounds();
    return seq;
  }

  /** The oldest entry that is still whole, skipping (and setting aside) corrupt ones. */
  public synchronized Optional<Entry> oldest() {
    while (!sizes.isEmpty()) {
      long seq = sizes.firstKey();
      Path f = dir.resolve(name(seq));
      try {
        return Optional.of(decode(seq, Files.readAllBytes(f)));
      } catch (IOException | RuntimeException e) {
        LOG.errorf(
            "Journal entry %s is unreadable (%s); setting it aside as .corrupt and continuing",
            f, e.getMessage());
        try {
          Files.move(f, dir.resolve(name(seq) + ".corrupt"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException moveFailed) {
          LOG.debugf("Could not set %s aside: %s", f, moveFailed.getMessage());
        }
        forget(seq);
      }
    }
    return Optional.empty();
  }

  /** Removes the entry {@code seq} after the broker acknowledged it. */
  public synchronized void remove(long seq) throws IOException {
    if (sizes.containsKey(seq)) {
      Files.deleteIfExists(dir.resolve(name(seq)));
      forget(seq);
    }
  }

  /** Entries waiting. */
  public synchronized int size() {
    return sizes.size();
  }

  /** Bytes on disk of waiting entries. */
  public synchronized long bytes() {
    return bytes;
  }

  /** Entries dropped because a bound was reached. */
  public synchronized long dropped() {
    return dropped;
  }

  /** The highest sequence number ever assigned. */
  public synchronized long lastSeq() {
    return lastSeq;
  }

  private void forget(long seq) {
    Long size = sizes.remove(seq);
    if (size != null) {
      bytes -= size;
    }
  }

  private void enforceBounds() throws IOException {
    while (sizes.size() > maxEntries || (bytes > maxBytes && sizes.size() > 1)) {
      long oldest = sizes.firstKey();
      Files.deleteIfExists(dir.resolve(name(oldest)));
      forget(oldest);
      dropped++;
      if (Long.bitCount(dropped) == 1) {
        LOG.warnf(
            "Journal full (%d entries, %d bytes): dropped the oldest entry, %d dropped so far."
                + " Raise edgeslm.agent.journal.max-entries / max-bytes or restore the broker"
                + " connection.",
            maxEntries, maxBytes, dropped);
      }
    }
  }

  private static String name(long seq) {
    return String.format("%020d%s", seq, SUFFIX);
  }

  static byte[] encode(long seq, byte[] topic, byte[] payload) {
    try {
      ByteArrayOutputStream buf = new ByteArrayOutputStream(payload.length + topic.length + 32);
      DataOutputStream out = new DataOutputStream(buf);
      out.writeInt(MAGIC);
      out.writeLong(seq);
      out.writeShort(topic.length);
      out.write(topic);
      out.writeInt(payload.length);
      out.write(payload);
      CRC32 crc = new CRC32();
      crc.update(buf.toByteArray());
      out.writeLong(crc.getValue());
      return buf.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("in-memory stream failed", e);
    }
  }

  static Entry decode(long expectedSeq, byte[] record) throws IOException {
    if (record.length < 4 + 8 + 2 + 4 + 8) {
      throw new IOException("truncated: " + record.length + " bytes");
    }
    CRC32 crc = new CRC32();
    crc.update(record, 0, record.length - 8);
    long stored = ByteBuffer.wrap(record, record.length - 8, 8).getLong();
    if (stored != crc.getValue()) {
      throw new IOException("CRC mismatch");
    }
    DataInputStream in =
        new DataInputStream(new java.io.ByteArrayInputStream(record, 0, record.length - 8));
    if (in.readInt() != MAGIC) {
      throw new IOException("not a journal entry (bad magic)");
    }
    long seq = in.readLong();
    if (seq != expectedSeq) {
      throw new IOException("entry says seq " + seq + " but its name says " + expectedSeq);
    }
    byte[] topic = new byte[in.readUnsignedShort()];
    in.readFully(topic);
    int n = in.readInt();
    if (n < 0 || n > record.length) {
      throw new IOException("payload length " + n + " out of bounds");
    }
    byte[] payload = new byte[n];
    in.readFully(payload);
    return new Entry(seq, new String(topic, StandardCharsets.UTF_8), payload);
  }

  private static void writeDurably(Path file, byte[] data) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(data);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Override
  public String toString() {
    return "Journal" + Arrays.asList(dir, sizes.size() + " entries");
  }
}
