package io.edgeslm.agent.internal.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe small-file writes: write a temporary sibling, force it, rename it over the target,
 * force the directory. After a power cut the target holds either the old or the new bytes, never a
 * mix (POSIX rename(2) replaces atomically; the directory fsync makes the rename itself durable).
 */
public final class AtomicFiles {

  /** Suffix of temporary files; {@link ModelStore} deletes leftovers on start. */
  public static final String TMP_SUFFIX = ".tmp";

  private AtomicFiles() {}

  /** Replaces {@code target} with {@code bytes} atomically and durably. */
  public static void write(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + TMP_SUFFIX);
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    move(tmp, target);
  }

  /** Renames atomically (same file system) and forces the parent directories. */
  public static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          "Cannot rename "
              + from
              + " to "
              + to
              + " atomically: "
              + e.getMessage()
              + ". Keep the staging area and the model store on one file system.",
          e);
    }
    syncDirectory(to.toAbsolutePath().getParent());
    Path fromDir = from.toAbsolutePath().getParent();
    if (!fromDir.equals(to.toAbsolutePath().getParent())) {
      syncDirectory(fromDir);
    }
  }

  /** Forces a directory's entries to disk (Linux allows fsync on a directory opened for read). */
  public static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some file systems (and Windows) refuse to open a directory; the rename is then as durable
      // as the platform allows.
      if (Files.isDirectory(dir) && System.getProperty("os.name", "").startsWith("Windows")) {
        return;
      }
      throw e;
    }
  }

  /** Deletes a directory tree if it exists (no links followed). */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Files.delete(dir);
      return;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
