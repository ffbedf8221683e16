package io.edgeslm.testkit.internal.gguf;

import io.edgeslm.testkit.GgmlType;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Streams a GGUF v3 file: header, metadata, tensor infos, padding to the alignment, then each
 * tensor's data, each padded to the alignment.
 *
 * <p>Tensor data is generated in batches of rows (about 1 MiB encoded) on up to four threads and
 * written in order by the calling thread. At most {@code 2 × threads + 2} batches are in flight, so
 * the heap needed is a few MiB whatever the model size. The file is written beside the target and
 * moved into place when complete, so a reader never sees a half-written model.
 */
public final class GgufFileWriter {
  private static final int BUFFER_BYTES = 4 << 20;
  private static final int BATCH_BYTES = 1 << 20;
  private static final AtomicLong TEMP_COUNTER = new AtomicLong();

  private GgufFileWriter() {}

  /**
   * Writes the file.
   *
   * @param progress called with the number of tensor-data bytes written so far, after each tensor
   *     and at least every 64 MiB
   * @return the file size in bytes
   */
  public static long write(
      Path target,
      List<MetadataEntry> metadata,
      List<TensorSpec> tensors,
      long seed,
      LongConsumer progress)
      throws IOException {
    Path abs = target.toAbsolutePath();
    Files.createDirectories(abs.getParent());
    // Unique per process and call, so concurrent writers of the same model never share a file.
    Path tmp =
        abs.resolveSibling(
            "."
                + abs.getFileName()
                + "."
                + ProcessHandle.current().pid()
                + "-"
                + TEMP_COUNTER.incrementAndGet()
                + ".part");
    try {
      long size;
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        size = writeTo(ch, metadata, tensors, seed, progress);
      }
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return size;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Writes the whole GGUF stream to {@code channel} (which the caller closes).
   *
   * @return bytes written
   */
  public static long writeTo(
      WritableByteChannel channel,
      List<MetadataEntry> metadata,
      List<TensorSpec> tensors,
      long seed,
      LongConsumer progress)
      throws IOException {
    int threads = Math.clamp(Runtime.getRuntime().availableProcessors(), 1, 4);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads, r -> Thread.ofPlatform().daemon().name("gguf-writer").unstarted(r));
    try (GgufOutput out = new GgufOutput(channel, BUFFER_BYTES)) {
      writeHeader(out, metadata, tensors);
      Progress p = new Progress(out, out.position(), progress);
      for (TensorSpec t : tensors) {
        writeTensor(out, t, seed, pool, 2 * threads + 2, p);
        out.padTo(Gguf.DEFAULT_ALIGNMENT);
        p.report();
      }
      out.flush();
      return out.position();
    } finally {
      pool.shutdownNow();
    }
  }

  /** Bytes of tensor data (with padding) the tensors occupy. */
  public static long dataBytes(List<TensorSpec> tensors) {
    long total = 0;
    for (TensorSpec t : tensors) {
      total = Gguf.align(total + t.byteSize(), Gguf.DEFAULT_ALIGNMENT);
    }
    return total;
  }

  private static void writeHeader(
      GgufOutput out, List<MetadataEntry> metadata, List<TensorSpec> tensors) throws IOException {
    out.u32(Gguf.MAGIC);
    out.u32(Gguf.VERSION);
    out.u64(tensors.size());
    out.u64(metadata.size());
    for (MetadataEntry e : metadata) {
      out.entry(e);
    }
    long offset = 0;
    for (TensorSpec t : tensors) {
      out.string(t.name());
      long[] dims = t.dims();
      out.u32(dims.length);
      for (long d : dims) {
        out.u64(d);
      }
      out.u32(t.type().id());
      out.u64(offset);
      offset = Gguf.align(offset + t.byteSize(), Gguf.DEFAULT_ALIGNMENT);
    }
    out.padTo(Gguf.DEFAULT_ALIGNMENT);
  }

  private static void writeTensor(
      GgufOutput out, TensorSpec t, long seed, ExecutorService pool, int window, Progress progress)
      throws IOException {
    long rowBytes = t.type().rowBytes(t.rowLength());
    long rows = t.rows();
    long batchRows = Math.max(1, BATCH_BYTES / rowBytes);
    ArrayDeque<Future<ByteBuffer>> inFlight = new ArrayDeque<>();
    long next = 0;
    while (next < rows || !inFlight.isEmpty()) {
      while (next < rows && inFlight.size() < window) {
        long first = next;
        long count = Math.min(batchRows, rows - first);
        inFlight.add(pool.submit(() -> encodeRows(t, seed, first, count)));
        next += count;
      }
      out.write(await(inFlight.removeFirst(), t));
      progress.maybeReport();
    }
  }

  private static ByteBuffer await(Future<ByteBuffer> f, TensorSpec t) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("Interrupted while writing tensor " + t.name());
    } catch (ExecutionException e) {
      throw new IOException("Generating tensor " + t.name() + " failed: " + e.getCause(), e);
    }
  }

  /** Encodes rows {@code [first, first + count)} of {@code t}. */
  static ByteBuffer encodeRows(TensorSpec t, long seed, long first, long count) {
    int rowLength = Math.toIntExact(t.rowLength());
    GgmlType type = t.type();
    int rowBytes = Math.toIntExact(type.rowBytes(rowLength));
    byte[] buf = new byte[Math.toIntExact(rowBytes * count)];
    float[] row = new float[rowLength];
    if (t.fill() == TensorSpec.Fill.ONES) {
      Arrays.fill(row, 1f);
    }
    long key = WeightGenerator.tensorKey(seed, t.name());
    int at = 0;
    for (long r = first; r < first + count; r++) {
      if (t.fill() == TensorSpec.Fill.GAUSSIAN) {
        WeightGenerator.forRow(key, r, t.stddev()).fill(row, 0, rowLength);
      }
      switch (type) {
        case F32 -> {
          ByteBuffer.wrap(buf, at, rowBytes)
              .order(ByteOrder.LITTLE_ENDIAN)
              .asFloatBuffer()
              .put(row);
          at += rowBytes;
        }
        case Q8_0 -> {
          for (int b = 0; b < rowLength; b += BlockCodec.QK) {
            BlockCodec.encodeQ8_0(row, b, buf, at);
            at += type.bytesPerBlock();
          }
        }
        case Q4_0 -> {
          for (int b = 0; b < rowLength; b += BlockCodec.QK) {
            BlockCodec.encodeQ4_0(row, b, buf, at);
            at += type.bytesPerBlock();
          }
        }
        case Q4_K -> {
          for (int b = 0; b < rowLength; b += KQuantCodec.QK_K) {
            KQuantCodec.encodeQ4K(row, b, buf, at);
            at += type.bytesPerBlock();
          }
        }
        case Q6_K -> {
          for (int b = 0; b < rowLength; b += KQuantCodec.QK_K) {
            KQuantCodec.encodeQ6K(row, b, buf, at);
            at += type.bytesPerBlock();
          }
        }
      }
    }
    return ByteBuffer.wrap(buf);
  }

  /** Reports tensor-data bytes written, at most once per {@link #STEP} inside a tensor. */
  private static final class Progress {
    private static final long STEP = 64L << 20;
    private final GgufOutput out;
    private final long dataStart;
    private final LongConsumer sink;
    private long lastReported;

    Progress(GgufOutput out, long dataStart, LongConsumer sink) {
      this.out = out;
      this.dataStart = dataStart;
      this.sink = sink;
    }

    void maybeReport() {
      if (out.position() - dataStart - lastReported >= STEP) {
        report();
      }
    }

    void report() {
      lastReported = out.position() - dataStart;
      sink.accept(lastReported);
    }
  }
}
