package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One file of a bundle in an {@link UpdateAssignment}: its path, size, whole-file SHA-256 and the
 * SHA-256 of each chunk, so the node can verify and persist every chunk as it arrives and resume
 * after a restart without re-reading what it already has. The whole-file hash is a transfer check
 * only; trust comes from the bundle signature, verified after assembly.
 *
 * @param name relative path inside the bundle, e.g. {@code model.gguf}
 * @param sizeBytes file size
 * @param sha256 whole-file SHA-256, 64 lowercase hex digits
 * @param chunks per-chunk SHA-256 in index order; chunk {@code i} covers bytes {@code [i *
 *     chunkBytes, min(size, (i + 1) * chunkBytes))}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BundleFile(
    String name,
    @JsonProperty(required = true) long sizeBytes,
    String sha256,
    @JsonProperty(required = true) List<String> chunks) {

  /** Most chunks per file: 16 GiB at the default 256 KiB chunk size. */
  public static final int MAX_CHUNKS = 65_536;

  public BundleFile {
    Checks.bundlePath("file.name", name);
    Checks.range("file.sizeBytes", sizeBytes, 0, Long.MAX_VALUE);
    Checks.sha256Hex("file.sha256", sha256);
    chunks = Checks.list("file.chunks", chunks, MAX_CHUNKS);
    for (int i = 0; i < chunks.size(); i++) {
      Checks.sha256Hex("file.chunks[" + i + "]", chunks.get(i));
    }
  }

  /** Number of chunks a file of {@code sizeBytes} has at {@code chunkBytes}. */
  public static long chunkCount(long sizeBytes, int chunkBytes) {
    return sizeBytes == 0 ? 0 : (sizeBytes - 1) / chunkBytes + 1;
  }

  /**
   * Describes a file on disk: reads it once, computing its SHA-256 and that of every chunk. The
   * controller uses it to build an {@link UpdateAssignment}; tests use it to check a transfer.
   *
   * @param name the file's path inside the bundle
   * @param file the file to read
   * @param chunkBytes chunk size, {@link UpdateAssignment#MIN_CHUNK_BYTES} to {@link
   *     UpdateAssignment#MAX_CHUNK_BYTES}
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException if the name or chunk size breaks a rule, or the file has more
   *     than {@value #MAX_CHUNKS} chunks at this chunk size
   */
  public static BundleFile fromFile(String name, Path file, int chunkBytes) throws IOException {
    Checks.bundlePath("file.name", name);
    Checks.range(
        "chunkBytes",
        chunkBytes,
        UpdateAssignment.MIN_CHUNK_BYTES,
        UpdateAssignment.MAX_CHUNK_BYTES);
    long size = Files.size(file);
    long count = chunkCount(size, chunkBytes);
    Checks.check(
        count <= MAX_CHUNKS,
        "file "
            + Checks.quote(name)
            + " of "
            + size
            + " bytes needs "
            + count
            + " chunks at chunkBytes="
            + chunkBytes
            + ", more than "
            + MAX_CHUNKS
            + ". Use a larger chunk size.");
    MessageDigest whole = newSha256();
    List<String> hashes = new ArrayList<>((int) count);
    byte[] buffer = new byte[chunkBytes];
    long total = 0;
    try (InputStream in = Files.newInputStream(file)) {
      int filled;
      while ((filled = in.readNBytes(buffer, 0, chunkBytes)) > 0) {
        whole.update(buffer, 0, filled);
        MessageDigest chunk = newSha256();
        chunk.update(buffer, 0, filled);
        hashes.add(HexFormat.of().formatHex(chunk.digest()));
        total += filled;
      }
    }
    if (total != size) {
      throw new IOException(
          "File "
              + file
              + " changed while it was hashed: "
              + size
              + " bytes before, "
              + total
              + " read. Hash it again when it is no longer being written.");
    }
    return new BundleFile(name, size, HexFormat.of().formatHex(whole.digest()), hashes);
  }

  /**
   * Checks a received chunk against this file's chunk list.
   *
   * @param index the chunk's index
   * @param data the chunk's bytes
   * @param chunkBytes the assignment's chunk size
   * @throws InvalidPayloadException ({@code not_found} for an index past the last chunk, {@code
   *     invalid} for a wrong length or hash) naming the file, the chunk and both values
   */
  public void verifyChunk(int index, byte[] data, int chunkBytes) throws InvalidPayloadException {
    Checks.required("data", data);
    verifyChunk(index, ByteBuffer.wrap(data), chunkBytes);
  }

  /**
   * {@link #verifyChunk(int, byte[], int)} for the remaining bytes of {@code data} (a received
   * payload, hashed where it is: no copy of the chunk); its position is left unchanged.
   */
  public void verifyChunk(int index, ByteBuffer data, int chunkBytes)
      throws InvalidPayloadException {
    Checks.required("data", data);
    checkShape(index, data.remaining(), chunkBytes);
    checkHash(index, sha256Hex(data));
  }

  /**
   * {@link #verifyChunk(int, ByteBuffer, int)} for a chunk hashed beforehand with {@link
   * #sha256Hex}: the receiver may hash on one thread and check and write on another. The caller
   * must write exactly the bytes it hashed (a read-only payload nobody changes).
   *
   * @param length the chunk's byte count
   * @param sha256 its SHA-256 from {@link #sha256Hex}
   */
  public void verifyChunkHash(int index, int length, String sha256, int chunkBytes)
      throws InvalidPayloadException {
    Checks.required("sha256", sha256);
    checkShape(index, length, chunkBytes);
    checkHash(index, sha256);
  }

  /**
   * The SHA-256 of {@code data}'s remaining bytes as 64 lowercase hex digits, the form of {@link
   * #chunks()}; its position is left unchanged.
   */
  public static String sha256Hex(ByteBuffer data) {
    MessageDigest sha = newSha256();
    sha.update(data.duplicate());
    return HexFormat.of().formatHex(sha.digest());
  }

  private void checkShape(int index, int length, int chunkBytes) throws InvalidPayloadException {
    if (index < 0 || index >= chunks.size()) {
      throw new InvalidPayloadException(
          ErrorCode.NOT_FOUND,
          "Chunk "
              + index
              + " of "
              + Checks.quote(name)
              + " does not exist: the file has "
              + chunks.size()
              + " chunks. Request an index from 0 to "
              + (chunks.size() - 1)
              + ".",
          null);
    }
    int expected = chunkLength(index, chunkBytes);
    if (length != expected) {
      throw new InvalidPayloadException(
          ErrorCode.INVALID,
          "Chunk "
              + index
              + " of "
              + Checks.quote(name)
              + " must be "
              + expected
              + " bytes: got "
              + length
              + ". Request the chunk again.",
          null);
    }
  }

  private void checkHash(int index, String actual) throws InvalidPayloadException {
    if (!actual.equals(chunks.get(index))) {
      throw new InvalidPayloadException(
          ErrorCode.INVALID,
          "Chunk "
              + index
              + " of "
              + Checks.quote(name)
              + " has sha256 "
              + actual
              + ", the assignment lists "
              + chunks.get(index)
              + ". The chunk was damaged or comes from another file; request it again.",
          null);
    }
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform must provide SHA-256 (java.security.MessageDigest javadoc).
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }

  /** Byte length of chunk {@code index} at {@code chunkBytes}. */
  public int chunkLength(int index, int chunkBytes) {
    Checks.range("index", index, 0, chunks.size() - 1);
    long start = (long) index * chunkBytes;
    return (int) Math.min(chunkBytes, sizeBytes - start);
  }
}
