package io.edgeslm.inference.internal.engine;

import io.edgeslm.inference.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Cheap checks before a worker is started for a file: it exists, is readable, and begins with the
 * GGUF magic and a known version (GGUF spec: ggml/docs/gguf.md, little-endian magic {@code GGUF},
 * then a {@code uint32} version). LoRA adapters are GGUF files too.
 */
public final class GgufCheck {
  private static final int MAGIC = 0x46554747; // "GGUF" read little-endian

  private GgufCheck() {}

  /** Throws unless {@code file} looks like a GGUF file llama.cpp can open. */
  public static void requireLoadable(Path file) throws ModelLoadException {
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException(
          "Model file '" + file + "' does not exist or is not a regular file. Check the path.");
    }
    if (!Files.isReadable(file)) {
      throw new ModelLoadException(
          "Model file '" + file + "' is not readable by this process. Fix its permissions.");
    }
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(8);
    } catch (IOException e) {
      throw new ModelLoadException("Cannot read model file '" + file + "': " + e.getMessage(), e);
    }
    if (head.length < 8) {
      throw new ModelLoadException(
          "Model file '" + file + "' has " + head.length + " bytes, too short for a GGUF header.");
    }
    ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
    int magic = b.getInt();
    int version = b.getInt();
    if (magic != MAGIC) {
      throw new ModelLoadException(
          "Model file '"
              + file
              + "' does not start with the GGUF magic (found 0x"
              + Integer.toHexString(Integer.reverseBytes(magic))
              + "). It is not a GGUF model; convert it with llama.cpp's convert_hf_to_gguf.py.");
    }
    if (version < 2 || version > 3) {
      throw new ModelLoadException(
          "Model file '"
              + file
              + "' is GGUF version "
              + Integer.toUnsignedString(version)
              + "; the bundled llama.cpp reads versions 2 and 3.");
    }
  }
}
