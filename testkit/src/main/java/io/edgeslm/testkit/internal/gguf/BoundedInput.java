package io.edgeslm.testkit.internal.gguf;

import io.edgeslm.testkit.GgufFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Little-endian reads from a file channel through a fixed buffer. Every read is checked against the
 * file size, so a truncated or lying header fails with a message instead of reading past the end or
 * allocating what a length field claims.
 */
public final class BoundedInput {
  private final FileChannel channel;
  private final long size;
  private final ByteBuffer buffer = ByteBuffer.allocate(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
  private long bufferStart;

  public BoundedInput(FileChannel channel) throws IOException {
    this.channel = channel;
    this.size = channel.size();
    buffer.limit(0);
  }

  public long size() {
    return size;
  }

  public long position() {
    return bufferStart + buffer.position();
  }

  private void need(int n, String what) throws IOException, GgufFormatException {
    if (position() + n > size) {
      throw new GgufFormatException(
          "GGUF file ends at byte "
              + size
              + " while reading "
              + what
              + " at byte "
              + position()
              + ". The file is truncated or not GGUF; write or copy it again.");
    }
    if (buffer.remaining() < n) {
      long pos = position();
      buffer.compact(); // unread bytes move to index 0, which now stands for file position pos
      bufferStart = pos;
      while (buffer.position() < n) {
        int r = channel.read(buffer, bufferStart + buffer.position());
        if (r < 0) {
          throw new GgufFormatException("GGUF file shrank while being read, at byte " + pos + ".");
        }
      }
      buffer.flip();
    }
  }

  public int u8(String what) throws IOException, GgufFormatException {
    need(1, what);
    return buffer.get() & 0xFF;
  }

  public int i8(String what) throws IOException, GgufFormatException {
    need(1, what);
    return buffer.get();
  }

  public int u16(String what) throws IOException, GgufFormatException {
    need(2, what);
    return buffer.getShort() & 0xFFFF;
  }

  public int i16(String what) throws IOException, GgufFormatException {
    need(2, what);
    return buffer.getShort();
  }

  public long u32(String what) throws IOException, GgufFormatException {
    need(4, what);
    return buffer.getInt() & 0xFFFF_FFFFL;
  }

  public int i32(String what) throws IOException, GgufFormatException {
    need(4, what);
    return buffer.getInt();
  }

  public long i64(String what) throws IOException, GgufFormatException {
    need(8, what);
    return buffer.getLong();
  }

  /** A uint64 that must fit in a signed long; larger values are no real size or count. */
  public long u64(String what) throws IOException, GgufFormatException {
    long v = i64(what);
    if (v < 0) {
      throw new GgufFormatException(
          what + " is " + Long.toUnsignedString(v) + ", beyond any file this reader accepts.");
    }
    return v;
  }

  public float f32(String what) throws IOException, GgufFormatException {
    need(4, what);
    return buffer.getFloat();
  }

  public double f64(String what) throws IOException, GgufFormatException {
    need(8, what);
    return buffer.getDouble();
  }

  /** A GGUF string of at most {@code maxBytes} UTF-8 bytes. */
  public String string(String what, int maxBytes) throws IOException, GgufFormatException {
    long len = u64(what + " length");
    if (len > maxBytes) {
      throw new GgufFormatException(
          what
              + " claims "
              + len
              + " bytes; the limit is "
              + maxBytes
              + ". The header is corrupt.");
    }
    if (position() + len > size) {
      need((int) len, what);
    }
    byte[] bytes = new byte[(int) len];
    int done = 0;
    while (done < len) {
      int chunk = (int) Math.min(len - done, buffer.capacity());
      need(chunk, what);
      buffer.get(bytes, done, chunk);
      done += chunk;
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new GgufFormatException(what + " is not valid UTF-8, as GGUF requires.", e);
    }
  }

  /** Skips forward to {@code target}, which must lie within the file. */
  public void seek(long target) throws GgufFormatException {
    if (target < 0 || target > size) {
      throw new GgufFormatException(
          "Offset " + target + " lies outside the file of " + size + " bytes.");
    }
    bufferStart = target;
    buffer.clear().limit(0);
  }
}
