package io.edgeslm.agent.internal.store;

import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's durable update journal: every update step as a {@link JournalEntry} with a sequence
 * number that starts at 1 and never repeats, kept until the controller acknowledges it ({@code
 * JournalAck}) and replayed in order after every reconnect (docs/protocol.md, "Journal").
 *
 * <p>One JSON line per entry in {@code journal.jsonl}, appended and forced before {@link #append}
 * returns. A power cut can leave at most a torn last line, which {@link #open} cuts off (its entry
 * was never reported, so nothing that was published is lost). Acknowledged entries are compacted
 * away once they exceed {@value #COMPACT_ACKED} lines; unacknowledged ones are bounded by {@value
 * #MAX_UNACKED}, beyond which the oldest are dropped and counted (a node offline for months must
 * not fill its disk with journal). Thread-safe.
 */
public final class UpdateJournal {

  public static final int MAX_UNACKED = 100_000;
  static final int COMPACT_ACKED = 1_000;
  private static final int MAX_LINE_BYTES = 64 * 1024;

  private final Path file;
  private final Path ackFile;
  private final List<JournalEntry> entries = new ArrayList<>();
  private long lastSeq;
  private long acked;
  private long dropped;
  private FileChannel out;

  private UpdateJournal(Path dir) {
    this.file = dir.resolve("journal.jsonl");
    this.ackFile = dir.resolve("acked");
  }

  /** Opens (creating) the journal in {@code dir}, cutting off a torn last line. */
  public static UpdateJournal open(Path dir) throws IOException {
    Files.createDirectories(dir);
    UpdateJournal j = new UpdateJournal(dir);
    j.load();
    return j;
  }

  private void load() throws IOException {
    if (Files.exists(ackFile)) {
      String s = Files.readString(ackFile, StandardCharsets.US_ASCII).trim();
      acked = s.isEmpty() ? 0 : Long.parseLong(s);
      lastSeq = acked;
    }
    long goodBytes = 0;
    if (Files.exists(file)) {
      byte[] all = Files.readAllBytes(file);
      int start = 0;
      for (int i = 0; i < all.length; i++) {
        if (all[i] != '\n') {
          continue;
        }
        byte[] line = java.util.Arrays.copyOfRange(all, start, i);
        try {
          JournalEntry e = Json.read(line, JournalEntry.class, MAX_LINE_BYTES);
          if (e.seq() > lastSeq) {
            entries.add(e);
            lastSeq = e.seq();
          }
        } catch (InvalidPayloadException ex) {
          break; // a torn or damaged line: everything after it is suspect
        }
        start = i + 1;
        goodBytes = start;
      }
    }
    out =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    if (out.size() != goodBytes) {
      out.truncate(goodBytes);
      out.force(true);
    }
    out.position(goodBytes);
    entries.removeIf(e -> e.seq() <= acked);
  }

  /** Appends one step durably and returns it (with its sequence number). */
  public synchronized JournalEntry append(
      JournalEvent event,
      String assignmentId,
      String commandId,
      ModelRef model,
      String detail,
      Instant at)
      throws IOException {
    // Details quote untrusted text (model output, names from a stick): escaped and bounded here, so
    // no caller can make an append fail and lose the step.
    String d = Details.printable(detail, 500);
    JournalEntry e = new JournalEntry(lastSeq + 1, at, event, assignmentId, commandId, model, d);
    byte[] json = Json.write(e);
    ByteBuffer buf = ByteBuffer.allocate(json.length + 1).put(json).put((byte) '\n').flip();
    while (buf.hasRemaining()) {
      out.write(buf);
    }
    out.force(false);
    lastSeq = e.seq();
    entries.add(e);
    if (entries.size() > MAX_UNACKED) {
      entries.removeFirst();
      dropped++;
    }
    return e;
  }

  /** Entries above the controller's acknowledgement, oldest first, at most {@code max}. */
  public synchronized List<JournalEntry> unacknowledged(int max) {
    return List.copyOf(entries.subList(0, Math.min(max, entries.size())));
  }

  /** All entries still held (acknowledged ones up to compaction included is not guaranteed). */
  public synchronized List<JournalEntry> entries() {
    return List.copyOf(entries);
  }

  public synchronized long lastSeq() {
    return lastSeq;
  }

  public synchronized long acknowledged() {
    return acked;
  }

  public synchronized long dropped() {
    return dropped;
  }

  /**
   * Records the controller's acknowledgement: every entry up to {@code seq} is stored there. An
   * acknowledgement above what this node ever wrote (another node's, or a reset journal) is clamped
   * to the last sequence number.
   */
  public synchronized void acknowledge(long seq) throws IOException {
    long s = Math.min(seq, lastSeq);
    if (s <= acked) {
      return;
    }
    AtomicFiles.write(ackFile, Long.toString(s).getBytes(StandardCharsets.US_ASCII));
    acked = s;
    entries.removeIf(e -> e.seq() <= acked);
    compactIfLarge();
  }

  private void compactIfLarge() throws IOException {
    if (out.size() < (long) COMPACT_ACKED * 200 && entries.size() > 0) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    for (JournalEntry e : entries) {
      sb.append(Json.writeString(e)).append('\n');
    }
    out.close();
    AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ);
    out.position(out.size());
  }

  /** Closes the file. */
  public synchronized void close() throws IOException {
    out.close();
  }
}
