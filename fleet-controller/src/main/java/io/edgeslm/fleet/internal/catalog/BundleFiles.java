package io.edgeslm.fleet.internal.catalog;

import io.edgeslm.fleet.FleetStorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;

/**
 * The bundle store on the file system: one directory per catalog bundle under {@code root}, and a
 * {@code .staging} directory where uploads are assembled and verified before an atomic move makes
 * them visible. Files are read chunk by chunk, never whole.
 */
public final class BundleFiles {

  private final Path root;
  private final Path staging;

  public BundleFiles(Path root) throws FleetStorageException {
    this.root = root.toAbsolutePath().normalize();
    this.staging = this.root.resolve(".staging");
    try {
      Files.createDirectories(staging);
      // Leftovers of an upload interrupted by a crash.
      try (var old = Files.list(staging)) {
        for (Path p : old.toList()) {
          deleteTree(p);
        }
      }
    } catch (IOException e) {
      throw new FleetStorageException(
          "Cannot use the bundle store at "
              + this.root
              + " ("
              + e.getMessage()
              + "). Set fleet.bundles.dir to a writable directory.",
          e);
    }
  }

  public Path root() {
    return root;
  }

  /** A new, empty staging directory. */
  public Path newStagingDir() throws IOException {
    return Files.createDirectory(staging.resolve(UUID.randomUUID().toString()));
  }

  /** Moves a verified staging directory into place as {@code bundleId}. */
  public Path commit(Path stagingDir, String bundleId) throws IOException {
    Path target = dir(bundleId);
    return Files.move(stagingDir, target, StandardCopyOption.ATOMIC_MOVE);
  }

  public Path dir(String bundleId) {
    Path p = root.resolve(bundleId).normalize();
    if (!p.getParent().equals(root) || bundleId.startsWith(".")) {
      throw new IllegalArgumentException("bundle id '" + bundleId + "' is not a plain name");
    }
    return p;
  }

  /**
   * Reads {@code length} bytes at {@code offset} of a bundle file.
   *
   * @throws IOException if the file is shorter or unreadable
   */
  public byte[] read(String bundleId, String file, long offset, int length) throws IOException {
    byte[] out = new byte[length];
    try (Reader r = open(bundleId, file)) {
      r.read(offset, ByteBuffer.wrap(out));
    }
    return out;
  }

  /**
   * Opens a bundle file for reading chunk after chunk without opening it again per chunk (a
   * transfer reads thousands). Close it when the transfer is done; a bundle deleted meanwhile stays
   * readable through it until then.
   *
   * @throws IOException if the file is outside the bundle, missing or unreadable
   */
  public Reader open(String bundleId, String file) throws IOException {
    Path p = dir(bundleId).resolve(file).normalize();
    if (!p.startsWith(dir(bundleId))) {
      throw new IOException("file '" + file + "' is outside bundle " + bundleId);
    }
    return new Reader(bundleId, file, FileChannel.open(p, StandardOpenOption.READ));
  }

  /** One open bundle file. Not thread-safe. */
  public static final class Reader implements AutoCloseable {
    private final String bundleId;
    private final String file;
    private final FileChannel channel;

    private Reader(String bundleId, String file, FileChannel channel) {
      this.bundleId = bundleId;
      this.file = file;
      this.channel = channel;
    }

    /**
     * Fills {@code into} (its remaining bytes) from {@code offset} of the file; a direct buffer
     * takes the bytes without a copy through the heap.
     *
     * @throws IOException if the file ends first or is unreadable
     */
    public void read(long offset, ByteBuffer into) throws IOException {
      long pos = offset;
      while (into.hasRemaining()) {
        int n = channel.read(into, pos);
        if (n < 0) {
          throw new IOException(
              "file '" + file + "' of bundle " + bundleId + " ended before byte " + pos);
        }
        pos += n;
      }
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  public void delete(String bundleId) throws IOException {
    deleteTree(dir(bundleId));
  }

  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
