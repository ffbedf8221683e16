package io.edgeslm.inference.internal.engine;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * What a child process wrote, kept bounded: the last {@code tailChars} characters in memory (for
 * error messages) and, optionally, a log file rotated to {@code <name>.1} once it reaches {@code
 * maxFileBytes} (so at most twice that on disk). Thread-safe.
 */
public final class OutputTail {
  private final int tailChars;
  private final Optional<Path> file;
  private final long maxFileBytes;
  private final StringBuilder tail = new StringBuilder();
  private OutputStream out;
  private long written;

  public OutputTail(int tailChars, Optional<Path> file, long maxFileBytes) {
    this.tailChars = tailChars;
    this.file = file;
    this.maxFileBytes = maxFileBytes;
  }

  /** An in-memory tail only. */
  public static OutputTail inMemory(int tailChars) {
    return new OutputTail(tailChars, Optional.empty(), 0);
  }

  public synchronized void append(String s) {
    tail.append(s);
    int excess = tail.length() - tailChars;
    if (excess > 0) {
      tail.delete(0, excess);
    }
    if (file.isPresent()) {
      writeToFile(s.getBytes(StandardCharsets.UTF_8));
    }
  }

  private void writeToFile(byte[] bytes) {
    Path f = file.get();
    try {
      if (out != null && written + bytes.length > maxFileBytes) {
        out.close();
        out = null;
        Files.move(
            f, f.resolveSibling(f.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
      }
      if (out == null) {
        out =
            Files.newOutputStream(
                f,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        written = 0;
      }
      out.write(bytes);
      out.flush();
      written += bytes.length;
    } catch (IOException e) {
      // A full or read-only disk must not stop the child: the in-memory tail still works.
      out = null;
    }
  }

  /** The last characters written, stripped, or "(nothing)". */
  public synchronized String tail() {
    String s = tail.toString().strip();
    return s.isEmpty() ? "(nothing)" : s;
  }

  /** Closes the log file (the tail stays readable). */
  public synchronized void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException ignored) {
        // Best effort.
      }
      out = null;
    }
  }
}
