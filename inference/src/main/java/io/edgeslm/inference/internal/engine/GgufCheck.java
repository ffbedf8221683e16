package io.edgeslm.inference.internal.engine;

import io.edgeslm.inference.ModelLoadException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * Cheap checks before a worker is started for a file: it exists, is readable, and begins with the
 * GGUF magic and a known version (GGUF spec: ggml/docs/gguf.md, little-endian magic {@code GGUF},
 * then a {@code uint32} version). LoRA adapters are GGUF files too.
 */
public final class GgufCheck {
  private static final int MAGIC = 0x46554747; // "GGUF" read little-endian

  /**
   * The architectures the bundled worker's llama.cpp (build b4916, March 2025) loads: its {@code
   * LLM_ARCH_NAMES} table ({@code src/llama-arch.cpp} at that tag). Qwen3, Gemma 3n, SmolLM3, LFM2
   * and every later architecture are missing.
   */
  public static final Set<String> WORKER_ARCHITECTURES =
      Set.of(
          "llama",
          "deci",
          "falcon",
          "grok",
          "gpt2",
          "gptj",
          "gptneox",
          "mpt",
          "baichuan",
          "starcoder",
          "refact",
          "bert",
          "nomic-bert",
          "jina-bert-v2",
          "bloom",
          "stablelm",
          "qwen",
          "qwen2",
          "qwen2moe",
          "qwen2vl",
          "phi2",
          "phi3",
          "phimoe",
          "plamo",
          "codeshell",
          "orion",
          "internlm2",
          "minicpm",
          "minicpm3",
          "gemma",
          "gemma2",
          "gemma3",
          "starcoder2",
          "mamba",
          "xverse",
          "command-r",
          "cohere2",
          "dbrx",
          "olmo",
          "olmo2",
          "olmoe",
          "openelm",
          "arctic",
          "deepseek",
          "deepseek2",
          "chatglm",
          "bitnet",
          "t5",
          "t5encoder",
          "jais",
          "nemotron",
          "exaone",
          "rwkv6",
          "rwkv6qwen2",
          "rwkv7",
          "arwkv7",
          "granite",
          "granitemoe",
          "chameleon",
          "wavtokenizer-dec");

  // Bounds for reading the header: general.architecture comes first in files written by
  // llama.cpp's converters and gguf-py; a file that hides it further down is left to llama.cpp.
  private static final int MAX_ENTRIES_SCANNED = 64;
  private static final int MAX_STRING_BYTES = 1 << 16;
  private static final long MAX_ARRAY_ELEMENTS = 1L << 24;

  private GgufCheck() {}

  /**
   * The refusal for a model the bundled worker cannot load, or empty if its architecture is one the
   * worker knows. Pure: the caller reads the architecture with {@link #architecture}.
   */
  public static Optional<String> workerRefusal(Path file, String architecture) {
    if (WORKER_ARCHITECTURES.contains(architecture)) {
      return Optional.empty();
    }
    return Optional.of(
        "Model '"
            + file.getFileName()
            + "' has architecture '"
            + architecture
            + "', which the bundled JNI worker engine (llama.cpp b4916) cannot load. Select the"
            + " llama-server engine (edgeslm.agent.model.engine=llama-server) or use a model of"
            + " an architecture b4916 knows, such as llama (Llama 3, Mistral), qwen2 (Qwen2.5),"
            + " phi3, gemma2 or gemma3.");
  }

  /** Throws the {@link #workerRefusal} if the worker cannot load {@code file}'s architecture. */
  public static void requireWorkerArchitecture(Path file) throws ModelLoadException {
    Optional<String> arch = architecture(file);
    if (arch.isPresent()) {
      Optional<String> refusal = workerRefusal(file, arch.get());
      if (refusal.isPresent()) {
        throw new ModelLoadException(refusal.get());
      }
    }
  }

  /**
   * The {@code general.architecture} value of a GGUF file, if it is among the first {@value
   * #MAX_ENTRIES_SCANNED} metadata entries; empty if not found or the header is unreadable (the
   * engine then reports what it finds itself).
   */
  public static Optional<String> architecture(Path file) {
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      if (Integer.reverseBytes(in.readInt()) != MAGIC) {
        return Optional.empty();
      }
      int version = Integer.reverseBytes(in.readInt());
      if (version < 2 || version > 3) {
        return Optional.empty();
      }
      in.readLong(); // tensor count
      long entries = Long.reverseBytes(in.readLong());
      for (long i = 0; i < Math.min(entries, MAX_ENTRIES_SCANNED); i++) {
        String key = string(in);
        int type = Integer.reverseBytes(in.readInt());
        if (key.equals("general.architecture") && type == STRING) {
          return Optional.of(string(in));
        }
        skip(in, type, 0);
      }
      return Optional.empty();
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  // GGUF metadata value types (ggml/docs/gguf.md, gguf_metadata_value_type).
  private static final int STRING = 8;
  private static final int ARRAY = 9;

  private static String string(DataInputStream in) throws IOException {
    long n = Long.reverseBytes(in.readLong());
    if (n < 0 || n > MAX_STRING_BYTES) {
      throw new IllegalArgumentException("string of " + n + " bytes");
    }
    byte[] b = new byte[(int) n];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static void skip(DataInputStream in, int type, int depth) throws IOException {
    switch (type) {
      case 0, 1, 7 -> skipBytes(in, 1); // uint8, int8, bool
      case 2, 3 -> skipBytes(in, 2);
      case 4, 5, 6 -> skipBytes(in, 4); // uint32, int32, float32
      case 10, 11, 12 -> skipBytes(in, 8); // uint64, int64, float64
      case STRING -> {
        long n = Long.reverseBytes(in.readLong());
        if (n < 0 || n > MAX_STRING_BYTES) {
          throw new IllegalArgumentException("string of " + n + " bytes");
        }
        skipBytes(in, n);
      }
      case ARRAY -> {
        if (depth > 0) {
          throw new IllegalArgumentException("nested array");
        }
        int element = Integer.reverseBytes(in.readInt());
        long n = Long.reverseBytes(in.readLong());
        if (n < 0 || n > MAX_ARRAY_ELEMENTS) {
          throw new IllegalArgumentException("array of " + n + " elements");
        }
        for (long i = 0; i < n; i++) {
          skip(in, element, depth + 1);
        }
      }
      default -> throw new IllegalArgumentException("value type " + type);
    }
  }

  private static void skipBytes(DataInputStream in, long n) throws IOException {
    long left = n;
    while (left > 0) {
      long skipped = in.skip(left);
      if (skipped <= 0) {
        if (in.read() < 0) {
          throw new EOFException();
        }
        skipped = 1;
      }
      left -= skipped;
    }
  }

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
