package io.edgeslm.testkit;

import io.edgeslm.testkit.internal.gguf.BlockCodec;
import io.edgeslm.testkit.internal.gguf.BoundedInput;
import io.edgeslm.testkit.internal.gguf.Gguf;
import io.edgeslm.testkit.internal.gguf.GgufValueType;
import io.edgeslm.testkit.internal.gguf.KQuantCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the header of a GGUF file (ggml-org/ggml {@code docs/gguf.md}, versions 2 and 3) with
 * explicit bounds on every count and length, and decodes rows of F32, Q8_0, Q4_0, Q4_K and Q6_K
 * tensors. Meant for checking files in tests, not for inference.
 */
public final class GgufReader {
  /** Most metadata pairs or tensors a header may declare. */
  public static final int MAX_ENTRIES = 1 << 16;

  /** Longest key, tensor name or string value. */
  public static final int MAX_STRING_BYTES = 1 << 24;

  /** Most elements of one metadata array (the largest real vocabularies hold about 260 000). */
  public static final int MAX_ARRAY_ELEMENTS = 1 << 22;

  private static final int MAX_KEY_BYTES = 1 << 16;

  private GgufReader() {}

  /**
   * Parses the header of {@code file}.
   *
   * @throws GgufFormatException if the file is not GGUF v2/v3, a count or length exceeds the limits
   *     above, a tensor has an unsupported type or lies outside the file, or tensors overlap
   * @throws IOException if the file cannot be read
   */
  public static GgufFile read(Path file) throws IOException, GgufFormatException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      BoundedInput in = new BoundedInput(ch);
      long magic = in.u32("magic");
      if (magic != (Gguf.MAGIC & 0xFFFF_FFFFL)) {
        throw new GgufFormatException(
            "'"
                + file
                + "' does not start with the GGUF magic (found 0x"
                + Long.toHexString(magic)
                + "). It is not a GGUF model.");
      }
      int version = (int) in.u32("version");
      if (version != 2 && version != 3) {
        throw new GgufFormatException(
            "'"
                + file
                + "' is GGUF version "
                + version
                + "; this reader accepts versions 2 and 3.");
      }
      long tensorCount = count(in, "tensor count");
      long kvCount = count(in, "metadata count");
      Map<String, Object> metadata = new LinkedHashMap<>();
      for (long i = 0; i < kvCount; i++) {
        String key = in.string("metadata key #" + i, MAX_KEY_BYTES);
        if (metadata.containsKey(key)) {
          throw new GgufFormatException("Metadata key '" + key + "' appears twice.");
        }
        GgufValueType type = valueType(in.u32("type of '" + key + "'"), key);
        metadata.put(key, value(in, type, key));
      }
      int alignment = Gguf.DEFAULT_ALIGNMENT;
      if (metadata.get("general.alignment") instanceof Long a) {
        if (a <= 0 || a > 1 << 20 || Long.bitCount(a) != 1) {
          throw new GgufFormatException(
              "general.alignment is " + a + "; it must be a power of two up to 1 MiB.");
        }
        alignment = (int) (long) a;
      }
      record Raw(String name, long[] dims, GgmlType type, long offset) {}
      List<Raw> raws = new ArrayList<>();
      Set<String> names = new HashSet<>();
      for (long i = 0; i < tensorCount; i++) {
        String name = in.string("tensor name #" + i, MAX_KEY_BYTES);
        if (!names.add(name)) {
          throw new GgufFormatException("Tensor '" + name + "' appears twice.");
        }
        long nDims = in.u32("dimension count of '" + name + "'");
        if (nDims < 1 || nDims > 4) {
          throw new GgufFormatException(
              "Tensor '" + name + "' has " + nDims + " dimensions; GGUF allows 1 to 4.");
        }
        long[] dims = new long[(int) nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
          dims[d] = in.u64("dimension " + d + " of '" + name + "'");
          if (dims[d] <= 0 || dims[d] > 1L << 40) {
            throw new GgufFormatException(
                "Tensor '" + name + "' has dimension " + d + " = " + dims[d] + ".");
          }
          elements = dims[d] > (1L << 42) / elements ? -1 : elements * dims[d];
          if (elements < 0 || elements > 1L << 42) {
            throw new GgufFormatException("Tensor '" + name + "' has too many elements.");
          }
        }
        long typeId = in.u32("type of '" + name + "'");
        GgmlType type = GgmlType.byId((int) Math.min(typeId, Integer.MAX_VALUE));
        if (type == null) {
          throw new GgufFormatException(
              "Tensor '"
                  + name
                  + "' has ggml type "
                  + typeId
                  + "; this reader knows F32 (0), Q4_0 (2) and Q8_0 (8).");
        }
        if (dims[0] % type.blockSize() != 0) {
          throw new GgufFormatException(
              "Tensor '"
                  + name
                  + "' rows have "
                  + dims[0]
                  + " weights, not a multiple of the "
                  + type
                  + " block size "
                  + type.blockSize()
                  + ".");
        }
        long offset = in.u64("offset of '" + name + "'");
        if (offset % alignment != 0) {
          throw new GgufFormatException(
              "Tensor '" + name + "' starts at " + offset + ", not aligned to " + alignment + ".");
        }
        raws.add(new Raw(name, dims, type, offset));
      }
      long dataOffset = Gguf.align(in.position(), alignment);
      List<GgufTensorInfo> tensors = new ArrayList<>();
      long end = 0;
      List<Raw> byOffset = new ArrayList<>(raws);
      byOffset.sort((a, b) -> Long.compare(a.offset(), b.offset()));
      for (Raw r : byOffset) {
        long bytes = r.type().rowBytes(r.dims()[0]);
        for (int d = 1; d < r.dims().length; d++) {
          bytes = Math.multiplyExact(bytes, r.dims()[d]);
        }
        if (r.offset() < end) {
          throw new GgufFormatException("Tensor '" + r.name() + "' overlaps the tensor before it.");
        }
        end = r.offset() + bytes;
        if (dataOffset + end > in.size()) {
          throw new GgufFormatException(
              "Tensor '"
                  + r.name()
                  + "' ends at byte "
                  + (dataOffset + end)
                  + " but the file has "
                  + in.size()
                  + ". The file is truncated.");
        }
      }
      for (Raw r : raws) {
        long bytes = r.type().rowBytes(r.dims()[0]);
        for (int d = 1; d < r.dims().length; d++) {
          bytes *= r.dims()[d];
        }
        tensors.add(
            new GgufTensorInfo(r.name(), r.dims(), r.type(), dataOffset + r.offset(), bytes));
      }
      return new GgufFile(version, alignment, metadata, tensors, dataOffset, in.size());
    }
  }

  /**
   * Decodes row {@code row} of {@code tensor} (a tensor of a file read with {@link #read}) to
   * floats.
   *
   * @throws IllegalArgumentException if {@code row} is outside the tensor
   * @throws IOException if the file cannot be read
   */
  public static float[] readRow(Path file, GgufTensorInfo tensor, long row) throws IOException {
    if (row < 0 || row >= tensor.rows()) {
      throw new IllegalArgumentException(
          "Row "
              + row
              + " is outside tensor '"
              + tensor.name()
              + "' of "
              + tensor.rows()
              + " rows.");
    }
    int n = Math.toIntExact(tensor.rowLength());
    GgmlType type = tensor.type();
    int rowBytes = Math.toIntExact(type.rowBytes(n));
    ByteBuffer buf = ByteBuffer.allocate(rowBytes).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long pos = tensor.fileOffset() + row * rowBytes;
      while (buf.hasRemaining()) {
        if (ch.read(buf, pos + buf.position()) < 0) {
          throw new IOException("'" + file + "' ended inside tensor '" + tensor.name() + "'.");
        }
      }
    }
    buf.flip();
    float[] out = new float[n];
    for (int b = 0; b < n / type.blockSize(); b++) {
      switch (type) {
        case F32 -> out[b] = buf.getFloat();
        case Q8_0 -> BlockCodec.decodeQ8_0(buf, out, b * BlockCodec.QK);
        case Q4_0 -> BlockCodec.decodeQ4_0(buf, out, b * BlockCodec.QK);
        case Q4_K -> KQuantCodec.decodeQ4K(buf, out, b * KQuantCodec.QK_K);
        case Q6_K -> KQuantCodec.decodeQ6K(buf, out, b * KQuantCodec.QK_K);
      }
    }
    return out;
  }

  private static long count(BoundedInput in, String what) throws IOException, GgufFormatException {
    long n = in.u64(what);
    if (n > MAX_ENTRIES) {
      throw new GgufFormatException(
          "The GGUF " + what + " is " + n + "; this reader accepts at most " + MAX_ENTRIES + ".");
    }
    return n;
  }

  private static GgufValueType valueType(long code, String key) throws GgufFormatException {
    GgufValueType t = GgufValueType.byCode(code);
    if (t == null) {
      throw new GgufFormatException(
          "Metadata key '" + key + "' has value type " + code + ", which GGUF does not define.");
    }
    return t;
  }

  private static Object value(BoundedInput in, GgufValueType type, String key)
      throws IOException, GgufFormatException {
    return switch (type) {
      case UINT8 -> in.u8(key);
      case INT8 -> in.i8(key);
      case UINT16 -> in.u16(key);
      case INT16 -> in.i16(key);
      case UINT32 -> in.u32(key);
      case INT32 -> in.i32(key);
      case FLOAT32 -> in.f32(key);
      case BOOL -> {
        int b = in.u8(key);
        if (b > 1) {
          throw new GgufFormatException("Metadata key '" + key + "' is a bool holding " + b + ".");
        }
        yield b == 1;
      }
      case STRING -> in.string("value of '" + key + "'", MAX_STRING_BYTES);
      case UINT64 -> in.u64(key);
      case INT64 -> in.i64(key);
      case FLOAT64 -> in.f64(key);
      case ARRAY -> {
        GgufValueType elementType = valueType(in.u32("element type of '" + key + "'"), key);
        if (elementType == GgufValueType.ARRAY) {
          throw new GgufFormatException(
              "Metadata key '" + key + "' nests arrays, which this reader does not accept.");
        }
        long n = in.u64("length of '" + key + "'");
        if (n > MAX_ARRAY_ELEMENTS) {
          throw new GgufFormatException(
              "Metadata array '"
                  + key
                  + "' claims "
                  + n
                  + " elements; the limit is "
                  + MAX_ARRAY_ELEMENTS
                  + ".");
        }
        List<Object> list = new ArrayList<>((int) Math.min(n, 1 << 16));
        for (long i = 0; i < n; i++) {
          list.add(value(in, elementType, key + "[" + i + "]"));
        }
        yield List.copyOf(list);
      }
    };
  }
}
