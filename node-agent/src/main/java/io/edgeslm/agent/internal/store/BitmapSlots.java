package io.edgeslm.agent.internal.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A small byte array (a transfer's chunk bitmap) persisted in place: one file of two fixed-size
 * slots written in turn, each holding a record {@code magic, sequence, length, bytes, CRC32C}.
 * {@link #write} puts the next record in the slot the newest one is not in and forces the file's
 * data: one device flush, and no journal commit since the file's size and blocks never change after
 * {@link #open}. Replacing a file atomically ({@link AtomicFiles#write}) costs a create, a rename
 * and two fsyncs each time. A write torn by a power cut leaves the other slot, one write older,
 * intact, and the CRC tells the torn one apart; slots start on 4 KiB boundaries, so that one
 * sector's tearing cannot reach both.
 *
 * <p>{@link #write} may run on a thread other than the opener's, one call at a time.
 */
final class BitmapSlots implements AutoCloseable {

  private static final int MAGIC = 0x4542_4d31; // "EBM1"
  private static final int HEADER = 4 + 8 + 4;
  private static final int ALIGN = 4096;

  private final FileChannel channel;
  private final int maxBytes;
  private final int slotBytes;
  private final Optional<byte[]> recovered;
  private long nextSequence;

  private BitmapSlots(
      FileChannel channel, int maxBytes, int slotBytes, Optional<byte[]> recovered, long next) {
    this.channel = channel;
    this.maxBytes = maxBytes;
    this.slotBytes = slotBytes;
    this.recovered = recovered;
    this.nextSequence = next;
  }

  /**
   * Opens {@code file} for records of at most {@code maxBytes}, creating it (both slots empty,
   * forced, the directory entry forced) when it is missing or has another size.
   */
  static BitmapSlots open(Path file, int maxBytes) throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must be 0 or more: got " + maxBytes);
    }
    int slot = slotBytes(maxBytes);
    if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && Files.size(file) == 2L * slot) {
      FileChannel ch =
          FileChannel.open(
              file, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
      try {
        Record newest = newest(ch, slot, maxBytes);
        return newest == null
            ? new BitmapSlots(ch, maxBytes, slot, Optional.empty(), 0)
            : new BitmapSlots(
                ch, maxBytes, slot, Optional.of(newest.bytes()), newest.sequence() + 1);
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    }
    Files.deleteIfExists(file);
    FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS);
    try {
      // Zeros (no valid record) written, not a sparse file: the blocks exist from here on, so that
      // later writes overwrite in place and forcing them needs no allocation.
      ByteBuffer zeros = ByteBuffer.allocate(2 * slot);
      while (zeros.hasRemaining()) {
        ch.write(zeros, zeros.position());
      }
      ch.force(true);
      AtomicFiles.syncDirectory(file.toAbsolutePath().getParent());
      return new BitmapSlots(ch, maxBytes, slot, Optional.empty(), 0);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** The newest intact record's bytes when the file was opened; empty if it had none. */
  Optional<byte[]> recovered() {
    return recovered.map(byte[]::clone);
  }

  /** Writes {@code bytes} as the newest record and forces it; returns once it is durable. */
  void write(byte[] bytes) throws IOException {
    if (bytes.length > maxBytes) {
      throw new IllegalArgumentException(
          "A bitmap of " + bytes.length + " bytes does not fit slots of " + maxBytes + " bytes");
    }
    long seq = nextSequence;
    ByteBuffer rec = ByteBuffer.allocate(HEADER + bytes.length + 4);
    rec.putInt(MAGIC).putLong(seq).putInt(bytes.length).put(bytes);
    CRC32C crc = new CRC32C();
    crc.update(rec.array(), 0, rec.position());
    rec.putInt((int) crc.getValue());
    rec.flip();
    long at = (seq & 1) * slotBytes;
    while (rec.hasRemaining()) {
      channel.write(rec, at + rec.position());
    }
    channel.force(false);
    nextSequence = seq + 1;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /**
   * The newest intact record in {@code file} without opening it for writing (nothing is created):
   * for a reader beside the writer, which sees a record being written as torn and gets the one
   * before.
   */
  static Optional<byte[]> read(Path file, int maxBytes) throws IOException {
    int slot = slotBytes(maxBytes);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) != 2L * slot) {
      return Optional.empty();
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return Optional.ofNullable(newest(ch, slot, maxBytes)).map(Record::bytes);
    }
  }

  private record Record(long sequence, byte[] bytes) {}

  private static Record newest(FileChannel ch, int slot, int maxBytes) throws IOException {
    Record a = readSlot(ch, 0, slot, maxBytes);
    Record b = readSlot(ch, slot, slot, maxBytes);
    return a == null ? b : b == null || a.sequence() > b.sequence() ? a : b;
  }

  /** The record in the slot at {@code at}, or {@code null} when it is empty, torn or foreign. */
  private static Record readSlot(FileChannel ch, long at, int slot, int maxBytes)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(slot);
    while (buf.hasRemaining()) {
      if (ch.read(buf, at + buf.position()) < 0) {
        return null;
      }
    }
    buf.flip();
    if (buf.getInt() != MAGIC) {
      return null;
    }
    long seq = buf.getLong();
    int len = buf.getInt();
    if (len < 0 || len > maxBytes || seq < 0) {
      return null;
    }
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, HEADER + len);
    buf.position(HEADER + len);
    if (buf.getInt() != (int) crc.getValue()) {
      return null;
    }
    byte[] bytes = new byte[len];
    buf.get(HEADER, bytes);
    return new Record(seq, bytes);
  }

  private static int slotBytes(int maxBytes) {
    long need = (long) HEADER + maxBytes + 4;
    return (int) ((need + ALIGN - 1) / ALIGN * ALIGN);
  }
}
