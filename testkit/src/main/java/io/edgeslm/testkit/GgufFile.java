package io.edgeslm.testkit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The parsed header of a GGUF file: version, metadata and tensor infos.
 *
 * <p>Metadata values are mapped to Java as: 8/16-bit integers and int32 → {@link Integer}; uint32,
 * int64 and uint64 → {@link Long}; float32 → {@link Float}; float64 → {@link Double}; bool → {@link
 * Boolean}; string → {@link String}; array → an unmodifiable {@link List} of the element mapping.
 *
 * @param version GGUF version (2 or 3)
 * @param alignment {@code general.alignment}, or 32 when absent
 * @param metadata every key/value pair in file order
 * @param tensors tensor infos in file order
 * @param dataOffset absolute position of the tensor data section
 * @param fileSize size of the file read
 */
public record GgufFile(
    int version,
    int alignment,
    Map<String, Object> metadata,
    List<GgufTensorInfo> tensors,
    long dataOffset,
    long fileSize) {
  public GgufFile {
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    tensors = List.copyOf(tensors);
  }

  /** The tensor named {@code name}, if present. */
  public Optional<GgufTensorInfo> tensor(String name) {
    return tensors.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  /**
   * The integer value of {@code key}.
   *
   * @throws GgufFormatException if the key is absent or not an integer
   */
  public long requireLong(String key) throws GgufFormatException {
    return switch (require(key)) {
      case Integer i -> i;
      case Long l -> l;
      case Object o ->
          throw new GgufFormatException(
              "Metadata key '"
                  + key
                  + "' holds "
                  + o.getClass().getSimpleName()
                  + ", not an integer.");
    };
  }

  /**
   * The string value of {@code key}.
   *
   * @throws GgufFormatException if the key is absent or not a string
   */
  public String requireString(String key) throws GgufFormatException {
    if (require(key) instanceof String s) {
      return s;
    }
    throw new GgufFormatException("Metadata key '" + key + "' does not hold a string.");
  }

  /**
   * The value of {@code key}.
   *
   * @throws GgufFormatException if absent
   */
  public Object require(String key) throws GgufFormatException {
    Object v = metadata.get(Objects.requireNonNull(key, "key"));
    if (v == null) {
      throw new GgufFormatException(
          "Metadata key '" + key + "' is missing. The file was not written for this use.");
    }
    return v;
  }
}
