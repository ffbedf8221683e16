package io.edgeslm.testkit.internal.gguf;

/**
 * Metadata value types of GGUF ({@code enum gguf_type} in ggml's {@code gguf.h}; the numbering is
 * fixed by the GGUF specification, ggml-org/ggml {@code docs/gguf.md}).
 */
public enum GgufValueType {
  UINT8(0),
  INT8(1),
  UINT16(2),
  INT16(3),
  UINT32(4),
  INT32(5),
  FLOAT32(6),
  BOOL(7),
  STRING(8),
  ARRAY(9),
  UINT64(10),
  INT64(11),
  FLOAT64(12);

  private final int code;

  GgufValueType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The type for {@code code}, or {@code null} if the code is not defined by the spec. */
  public static GgufValueType byCode(long code) {
    for (GgufValueType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    return null;
  }
}
