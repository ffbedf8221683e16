package io.edgeslm.testkit.internal.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One GGUF key/value pair to write. For arrays, {@code elementType} names the element type and
 * {@code value} is a {@link List}, {@code float[]} or {@code int[]}.
 */
public record MetadataEntry(
    String key, GgufValueType type, GgufValueType elementType, Object value) {
  public MetadataEntry {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(value, "value");
    if ((type == GgufValueType.ARRAY) != (elementType != null)) {
      throw new IllegalArgumentException(
          "Metadata key '" + key + "': an element type is given exactly for arrays.");
    }
  }

  public static MetadataEntry u32(String key, long value) {
    if (value < 0 || value > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException(
          "Metadata key '" + key + "' needs a uint32, got " + value + ".");
    }
    return new MetadataEntry(key, GgufValueType.UINT32, null, value);
  }

  public static MetadataEntry f32(String key, float value) {
    return new MetadataEntry(key, GgufValueType.FLOAT32, null, value);
  }

  public static MetadataEntry bool(String key, boolean value) {
    return new MetadataEntry(key, GgufValueType.BOOL, null, value);
  }

  public static MetadataEntry string(String key, String value) {
    return new MetadataEntry(key, GgufValueType.STRING, null, value);
  }

  public static MetadataEntry strings(String key, List<String> values) {
    return new MetadataEntry(key, GgufValueType.ARRAY, GgufValueType.STRING, List.copyOf(values));
  }

  public static MetadataEntry floats(String key, float[] values) {
    return new MetadataEntry(key, GgufValueType.ARRAY, GgufValueType.FLOAT32, values.clone());
  }

  public static MetadataEntry ints(String key, int[] values) {
    return new MetadataEntry(key, GgufValueType.ARRAY, GgufValueType.INT32, values.clone());
  }
}
