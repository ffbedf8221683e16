package io.edgeslm.inference.internal.worker;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Objects;

/**
 * One message between the supervisor and the worker process.
 *
 * <p>Layout on the socket: {@code int length} (big-endian, counts the bytes after itself), {@code
 * byte type}, {@code long id} (request id, ping sequence or 0), then {@code length - 9} payload
 * bytes. Lengths outside {@code 9..MAX_LENGTH} are refused before anything is allocated.
 */
public record Frame(Type type, long id, byte[] payload) {

  /** Largest accepted frame: a 256 KiB prompt plus a grammar fit with room to spare. */
  public static final int MAX_LENGTH = 4 * 1024 * 1024;

  private static final int HEADER = 1 + 8;

  /** Message types. Host to worker: LOAD, GENERATE, CANCEL, COUNT, PING, SHUTDOWN. */
  public enum Type {
    HELLO,
    LOAD,
    LOADED,
    GENERATE,
    TOKEN,
    DONE,
    CANCEL,
    COUNT,
    COUNTED,
    ERROR,
    PING,
    PONG,
    SHUTDOWN;

    private static final Type[] VALUES = values();

    static Type fromCode(int code) throws IOException {
      if (code < 0 || code >= VALUES.length) {
        throw new IOException("Unknown worker frame type " + code + "; host and worker differ.");
      }
      return VALUES[code];
    }
  }

  public Frame {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
    if (payload.length > MAX_LENGTH - HEADER) {
      throw new IllegalArgumentException(
          "Frame payload of " + payload.length + " bytes exceeds " + (MAX_LENGTH - HEADER));
    }
  }

  public static Frame of(Type type, long id) {
    return new Frame(type, id, new byte[0]);
  }

  /** Writes the frame; the caller serializes writers and flushes. */
  public void writeTo(DataOutputStream out) throws IOException {
    out.writeInt(HEADER + payload.length);
    out.writeByte(type.ordinal());
    out.writeLong(id);
    out.write(payload);
  }

  /**
   * Reads one frame.
   *
   * @throws EOFException at a clean end of stream before a frame starts
   * @throws IOException on a malformed length or type, or a stream cut inside a frame
   */
  public static Frame readFrom(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < HEADER || length > MAX_LENGTH) {
      throw new IOException(
          "Worker frame length " + length + " outside " + HEADER + ".." + MAX_LENGTH);
    }
    Type type = Type.fromCode(in.readUnsignedByte());
    long id = in.readLong();
    byte[] payload = new byte[length - HEADER];
    in.readFully(payload);
    return new Frame(type, id, payload);
  }
}
