package io.edgeslm.testkit.internal.gguf;

import io.edgeslm.testkit.GgmlType;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor to write: its GGUF name, its dimensions in ggml order ({@code ne[0]} is the contiguous
 * row), its encoding and how its values are made.
 *
 * @param fill {@link Fill#ONES} for norm weights, {@link Fill#GAUSSIAN} for matrices and biases
 * @param stddev standard deviation of the Gaussian-like values (ignored for ONES)
 */
public record TensorSpec(String name, long[] dims, GgmlType type, Fill fill, float stddev) {

  /** How a tensor's values are produced. */
  public enum Fill {
    ONES,
    GAUSSIAN
  }

  public TensorSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(fill, "fill");
    dims = dims.clone();
    if (dims.length < 1 || dims.length > 4) {
      throw new IllegalArgumentException(
          "Tensor '" + name + "' has " + dims.length + " dimensions; GGUF allows 1 to 4.");
    }
    for (long d : dims) {
      if (d <= 0) {
        throw new IllegalArgumentException(
            "Tensor '" + name + "' has a non-positive dimension: " + Arrays.toString(dims) + ".");
      }
    }
    type.rowBytes(dims[0]);
  }

  @Override
  public long[] dims() {
    return dims.clone();
  }

  /** Weights per row ({@code ne[0]}). */
  public long rowLength() {
    return dims[0];
  }

  /** Number of rows (product of {@code ne[1..]}). */
  public long rows() {
    long r = 1;
    for (int i = 1; i < dims.length; i++) {
      r = Math.multiplyExact(r, dims[i]);
    }
    return r;
  }

  /** Bytes of encoded data, without alignment padding. */
  public long byteSize() {
    return Math.multiplyExact(type.rowBytes(dims[0]), rows());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && name.equals(t.name)
        && Arrays.equals(dims, t.dims)
        && type == t.type
        && fill == t.fill
        && Float.compare(stddev, t.stddev) == 0;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, Arrays.hashCode(dims), type, fill, stddev);
  }

  @Override
  public String toString() {
    return name + Arrays.toString(dims) + " " + type;
  }
}
