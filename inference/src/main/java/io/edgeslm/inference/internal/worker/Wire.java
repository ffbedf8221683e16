package io.edgeslm.inference.internal.worker;

import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.FinishReason;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.ModelSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Payload encodings of the worker protocol. Strings are an {@code int} byte count and UTF-8 bytes
 * ({@code -1} for null); every count read is checked against a bound before use.
 */
public final class Wire {
  private static final int MAX_STRING_BYTES = Frame.MAX_LENGTH;
  private static final int MAX_LIST = 256;

  private Wire() {}

  /** Load parameters. */
  public static byte[] encodeSpec(ModelSpec spec) {
    return write(
        out -> {
          writeString(out, spec.gguf().toString());
          out.writeInt(spec.threads());
          out.writeInt(spec.contextSize());
          out.writeInt(spec.parallelSlots());
          out.writeInt(spec.loraAdapters().size());
          for (Path p : spec.loraAdapters()) {
            writeString(out, p.toString());
          }
        });
  }

  public static ModelSpec decodeSpec(byte[] payload) throws IOException {
    DataInputStream in = reader(payload);
    Path gguf = Path.of(readString(in));
    int threads = in.readInt();
    int ctx = in.readInt();
    int slots = in.readInt();
    int n = readCount(in);
    List<Path> lora = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      lora.add(Path.of(readString(in)));
    }
    try {
      return new ModelSpec(gguf, threads, ctx, slots, lora);
    } catch (IllegalArgumentException e) {
      throw new IOException("Bad LOAD frame: " + e.getMessage(), e);
    }
  }

  public static byte[] encodeRequest(GenerationRequest r) {
    return write(
        out -> {
          writeString(out, r.prompt());
          out.writeInt(r.messages().size());
          for (ChatMessage m : r.messages()) {
            out.writeByte(m.role().ordinal());
            writeString(out, m.content());
          }
          out.writeInt(r.nPredict());
          out.writeDouble(r.temperature());
          out.writeInt(r.seed());
          out.writeInt(r.stopStrings().size());
          for (String s : r.stopStrings()) {
            writeString(out, s);
          }
          writeString(out, r.grammar());
          writeString(out, r.jsonSchema());
        });
  }

  public static GenerationRequest decodeRequest(byte[] payload) throws IOException {
    DataInputStream in = reader(payload);
    String prompt = readString(in);
    int n = readCount(in);
    List<ChatMessage> messages = new ArrayList<>(n);
    ChatMessage.Role[] roles = ChatMessage.Role.values();
    for (int i = 0; i < n; i++) {
      int role = in.readUnsignedByte();
      if (role >= roles.length) {
        throw new IOException("Unknown chat role code " + role);
      }
      messages.add(new ChatMessage(roles[role], readString(in)));
    }
    int nPredict = in.readInt();
    double temperature = in.readDouble();
    int seed = in.readInt();
    int stops = readCount(in);
    List<String> stopStrings = new ArrayList<>(stops);
    for (int i = 0; i < stops; i++) {
      stopStrings.add(readString(in));
    }
    String grammar = readString(in);
    String schema = readString(in);
    try {
      return new GenerationRequest(
          prompt, messages, nPredict, temperature, seed, stopStrings, grammar, schema);
    } catch (IllegalArgumentException e) {
      throw new IOException("Bad GENERATE frame: " + e.getMessage(), e);
    }
  }

  /** DONE payload: prompt tokens, generated tokens, finish reason. */
  public static byte[] encodeDone(int promptTokens, int generated, FinishReason reason) {
    return write(
        out -> {
          out.writeInt(promptTokens);
          out.writeInt(generated);
          out.writeByte(reason.ordinal());
        });
  }

  /** Decoded DONE payload. */
  public record Done(int promptTokens, int generated, FinishReason reason) {}

  public static Done decodeDone(byte[] payload) throws IOException {
    DataInputStream in = reader(payload);
    int prompt = in.readInt();
    int generated = in.readInt();
    int code = in.readUnsignedByte();
    FinishReason[] values = FinishReason.values();
    if (code >= values.length || generated < 0 || prompt < -1) {
      throw new IOException("Bad DONE frame");
    }
    return new Done(prompt, generated, values[code]);
  }

  /** LOADED payload. */
  public record Loaded(long modelBytes, int contextSize, int parallelSlots, long loadMillis) {}

  public static byte[] encodeLoaded(Loaded l) {
    return write(
        out -> {
          out.writeLong(l.modelBytes());
          out.writeInt(l.contextSize());
          out.writeInt(l.parallelSlots());
          out.writeLong(l.loadMillis());
        });
  }

  public static Loaded decodeLoaded(byte[] payload) throws IOException {
    DataInputStream in = reader(payload);
    return new Loaded(in.readLong(), in.readInt(), in.readInt(), in.readLong());
  }

  /** Fault classes carried by ERROR frames. */
  public enum ErrorKind {
    /** The model could not be loaded. */
    LOAD,
    /** One request failed (bad grammar, template error). */
    REQUEST,
    /** Anything else inside the worker. */
    INTERNAL
  }

  /** ERROR payload. */
  public record Error(ErrorKind kind, String message) {}

  public static byte[] encodeError(ErrorKind kind, String message) {
    String m = message == null ? "(no message)" : message;
    if (m.length() > 4000) {
      m = m.substring(0, 4000) + "...";
    }
    String bounded = m;
    return write(
        out -> {
          out.writeByte(kind.ordinal());
          writeString(out, bounded);
        });
  }

  public static Error decodeError(byte[] payload) throws IOException {
    DataInputStream in = reader(payload);
    int code = in.readUnsignedByte();
    ErrorKind[] kinds = ErrorKind.values();
    if (code >= kinds.length) {
      throw new IOException("Bad ERROR frame kind " + code);
    }
    String msg = readString(in);
    return new Error(kinds[code], msg == null ? "" : msg);
  }

  public static byte[] encodeInt(int v) {
    return write(out -> out.writeInt(v));
  }

  public static int decodeInt(byte[] payload) throws IOException {
    return reader(payload).readInt();
  }

  public static byte[] encodeText(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static String decodeText(byte[] payload) {
    return new String(payload, StandardCharsets.UTF_8);
  }

  /** HELLO payload: the secret the host passed on stdin, and the worker's pid. */
  public record Hello(String secret, long pid) {}

  public static byte[] encodeHello(Hello h) {
    return write(
        out -> {
          writeString(out, h.secret());
          out.writeLong(h.pid());
        });
  }

  public static Hello decodeHello(byte[] payload) throws IOException {
    DataInputStream in = reader(payload);
    String secret = readString(in);
    return new Hello(secret == null ? "" : secret, in.readLong());
  }

  @FunctionalInterface
  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private static byte[] write(Writer w) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      w.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static DataInputStream reader(byte[] payload) {
    return new DataInputStream(new ByteArrayInputStream(payload));
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeInt(-1);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readString(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n == -1) {
      return null;
    }
    if (n < 0 || n > MAX_STRING_BYTES || n > in.available()) {
      throw new IOException("String length " + n + " out of bounds in worker frame");
    }
    byte[] b = in.readNBytes(n);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static int readCount(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_LIST) {
      throw new IOException("List length " + n + " outside 0.." + MAX_LIST + " in worker frame");
    }
    return n;
  }
}
