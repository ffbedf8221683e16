package io.edgeslm.inference.internal.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

/**
 * What every engine that runs llama.cpp in a child process needs alike: a private directory that
 * names its owner, sweeping directories whose owner died without cleaning up, killing a whole
 * process tree, and describing how a process ended. The engines keep their own policy (handshake,
 * restarts, hang rules); this class holds only the mechanics.
 */
public final class ChildProcesses {
  /** File in each private directory holding the pid of the JVM that created it. */
  public static final String OWNER_FILE = "host.pid";

  private ChildProcesses() {}

  /**
   * Creates {@code base/<prefix>NNNN} readable only by this user, with {@link #OWNER_FILE}, after
   * removing directories of the same prefix whose owner no longer runs.
   */
  public static Path createPrivateDirectory(Path base, String prefix) throws IOException {
    Files.createDirectories(base);
    sweepStale(base, prefix);
    Path dir =
        Files.createTempDirectory(
            base,
            prefix,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.writeString(dir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
    return dir;
  }

  /**
   * Removes directories under {@code base} starting with {@code prefix} whose {@link #OWNER_FILE}
   * names a process that no longer runs (left by a host killed with SIGKILL, or a power loss). They
   * can hold native libraries, logs and keys, so they must not pile up over months of restarts.
   * Directories without an owner file (being created, or not ours) are left alone.
   */
  public static void sweepStale(Path base, String prefix) {
    try (Stream<Path> dirs = Files.list(base)) {
      dirs.filter(d -> d.getFileName().toString().startsWith(prefix))
          .forEach(
              d -> {
                try {
                  String owner = Files.readString(d.resolve(OWNER_FILE)).strip();
                  if (ProcessHandle.of(Long.parseLong(owner)).isEmpty()) {
                    deleteTree(d);
                  }
                } catch (IOException | RuntimeException e) {
                  // No owner file yet, or not ours: leave it alone.
                }
              });
    } catch (IOException e) {
      // An unreadable base directory fails later, with a message, where it is used.
    }
  }

  /** SIGKILLs {@code p} and its descendants, descendants first (orphans are harder to find). */
  public static void killTree(Process p) {
    try (Stream<ProcessHandle> d = p.descendants()) {
      d.forEach(ProcessHandle::destroyForcibly);
    }
    p.destroyForcibly();
  }

  /** "exit code 1" or, for a shell-style 128+n status, "killed by signal n". */
  public static String describeExit(int code) {
    if (code > 128 && code < 160) {
      return "killed by signal " + (code - 128);
    }
    return "exit code " + code;
  }

  /** How {@code p} ended, or "still running". */
  public static String exitDescription(Process p) {
    return p.isAlive() ? "still running" : describeExit(p.exitValue());
  }

  /** Deletes a directory tree, best effort (what is left goes with the OS temp cleaner). */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted((a, b) -> b.getNameCount() - a.getNameCount())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // Left for the OS temp cleaner.
                }
              });
    } catch (IOException | UncheckedIOException ignored) {
      // Another thread removed part of the tree meanwhile.
    }
  }

  /** Starts a daemon thread. */
  public static Thread startDaemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }
}
