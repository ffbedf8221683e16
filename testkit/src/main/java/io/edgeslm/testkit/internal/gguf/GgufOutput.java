package io.edgeslm.testkit.internal.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A little-endian GGUF byte sink over a channel with one fixed buffer, so writing a file of any
 * size needs a bounded heap. Counts the bytes it has written.
 */
public final class GgufOutput implements AutoCloseable {
  private final WritableByteChannel channel;
  private final ByteBuffer buffer;
  private long written;

  public GgufOutput(WritableByteChannel channel, int bufferBytes) {
    this.channel = channel;
    this.buffer = ByteBuffer.allocateDirect(bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Bytes handed to this sink so far (flushed or not). */
  public long position() {
    return written + buffer.position();
  }

  /**
   * The buffer, with at least {@code bytes} free. The caller puts at most that many bytes and the
   * sink counts them on the next call.
   */
  public ByteBuffer reserve(int bytes) throws IOException {
    if (bytes > buffer.capacity()) {
      throw new IllegalArgumentException(
          "Cannot reserve " + bytes + " bytes in a " + buffer.capacity() + "-byte buffer.");
    }
    if (buffer.remaining() < bytes) {
      flush();
    }
    return buffer;
  }

  public void u32(long v) throws IOException {
    reserve(4).putInt((int) v);
  }

  public void i32(int v) throws IOException {
    reserve(4).putInt(v);
  }

  public void u64(long v) throws IOException {
    reserve(8).putLong(v);
  }

  public void f32(float v) throws IOException {
    reserve(4).putFloat(v);
  }

  public void bool(boolean v) throws IOException {
    reserve(1).put((byte) (v ? 1 : 0));
  }

  /** A GGUF string: uint64 byte length, then UTF-8 bytes without terminator. */
  public void string(String s) throws IOException {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    u64(bytes.length);
    int done = 0;
    while (done < bytes.length) {
      int n = Math.min(bytes.length - done, buffer.capacity());
      reserve(n).put(bytes, done, n);
      done += n;
    }
  }

  /** Writes all remaining bytes of {@code src}, consuming it. */
  public void write(ByteBuffer src) throws IOException {
    if (src.remaining() <= buffer.remaining()) {
      buffer.put(src);
      return;
    }
    flush();
    while (src.hasRemaining()) {
      written += channel.write(src);
    }
  }

  /** Writes zero bytes until {@link #position()} is a multiple of {@code alignment}. */
  public void padTo(int alignment) throws IOException {
    long pad = Gguf.align(position(), alignment) - position();
    for (long i = 0; i < pad; i++) {
      reserve(1).put((byte) 0);
    }
  }

  /** Writes one metadata key/value pair. */
  public void entry(MetadataEntry e) throws IOException {
    string(e.key());
    u32(e.type().code());
    if (e.type() == GgufValueType.ARRAY) {
      u32(e.elementType().code());
      switch (e.elementType()) {
        case STRING -> {
          List<?> list = (List<?>) e.value();
          u64(list.size());
          for (Object o : list) {
            string((String) o);
          }
        }
        case FLOAT32 -> {
          float[] a = (float[]) e.value();
          u64(a.length);
          for (float f : a) {
            f32(f);
          }
        }
        case INT32 -> {
          int[] a = (int[]) e.value();
          u64(a.length);
          for (int i : a) {
            i32(i);
          }
        }
        default ->
            throw new IllegalArgumentException(
                "Arrays of " + e.elementType() + " are not written by this kit.");
      }
      return;
    }
    switch (e.type()) {
      case UINT32 -> u32((Long) e.value());
      case FLOAT32 -> f32((Float) e.value());
      case BOOL -> bool((Boolean) e.value());
      case STRING -> string((String) e.value());
      default ->
          throw new IllegalArgumentException(
              "Values of " + e.type() + " are not written by this kit.");
    }
  }

  /** Writes everything buffered to the channel. */
  public void flush() throws IOException {
    buffer.flip();
    while (buffer.hasRemaining()) {
      written += channel.write(buffer);
    }
    buffer.clear();
  }

  @Override
  public void close() throws IOException {
    flush();
  }
}
