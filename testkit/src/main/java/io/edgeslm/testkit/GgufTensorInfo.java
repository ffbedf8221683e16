package io.edgeslm.testkit;

import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor described in a GGUF header.
 *
 * @param name tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param dims dimensions in ggml order ({@code dims[0]} is the contiguous row length)
 * @param type encoding
 * @param fileOffset absolute position of the first data byte in the file
 * @param byteSize bytes of data
 */
public record GgufTensorInfo(
    String name, long[] dims, GgmlType type, long fileOffset, long byteSize) {
  public GgufTensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    dims = dims.clone();
  }

  @Override
  public long[] dims() {
    return dims.clone();
  }

  /** Weights per row ({@code dims[0]}). */
  public long rowLength() {
    return dims[0];
  }

  /** Number of rows: the product of {@code dims[1..]}. */
  public long rows() {
    long r = 1;
    for (int i = 1; i < dims.length; i++) {
      r *= dims[i];
    }
    return r;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GgufTensorInfo t
        && name.equals(t.name)
        && Arrays.equals(dims, t.dims)
        && type == t.type
        && fileOffset == t.fileOffset
        && byteSize == t.byteSize;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, Arrays.hashCode(dims), type, fileOffset, byteSize);
  }

  @Override
  public String toString() {
    return name + Arrays.toString(dims) + " " + type + " @" + fileOffset;
  }
}
