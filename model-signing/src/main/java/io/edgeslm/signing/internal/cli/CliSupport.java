package io.edgeslm.signing.internal.cli;

import io.edgeslm.signing.HashProgress;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.PolicyException;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.SigningIoException;
import io.edgeslm.signing.TamperedArtifactException;
import io.edgeslm.signing.UntrustedKeyException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Exit codes, progress output and path handling shared by the commands. */
final class CliSupport {
  static final int OK = 0;
  static final int TAMPERED = 1;
  static final int USAGE = 2;
  static final int UNTRUSTED = 3;
  static final int POLICY = 4;
  static final int MALFORMED = 5;
  static final int IO = 6;

  /** Progress is printed for models at least this large. */
  static final long PROGRESS_THRESHOLD_BYTES = 64L * 1024 * 1024;

  private CliSupport() {}

  static int exitCode(SigningException e) {
    return switch (e) {
      case TamperedArtifactException t -> TAMPERED;
      case UntrustedKeyException u -> UNTRUSTED;
      case PolicyException p -> POLICY;
      case MalformedInputException m -> MALFORMED;
      case SigningIoException i -> IO;
    };
  }

  /**
   * Ignore paths as the reference CLI takes them: a path (relative to the working directory or
   * absolute) inside the model directory, or a name relative to the model directory.
   */
  static List<String> ignoreNames(Path modelDir, List<String> given) {
    List<String> out = new ArrayList<>();
    Path root = modelDir.toAbsolutePath().normalize();
    for (String g : given) {
      Path p = Path.of(g).toAbsolutePath().normalize();
      if (p.startsWith(root) && !p.equals(root)) {
        out.add(root.relativize(p).toString().replace('\\', '/'));
      } else {
        out.add(g);
      }
    }
    return out;
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    }
    if (n < 1024L * 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
    }
    return String.format(Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
  }

  /** Prints "hashed X of Y (Z MB/s)" on stderr at most twice a second, for large models. */
  static final class StderrProgress implements HashProgress {
    private final PrintWriter err;
    private final long start = System.nanoTime();
    private long lastPrint = start;
    private boolean printed;

    StderrProgress(PrintWriter err) {
      this.err = err;
    }

    @Override
    public synchronized void onProgress(long bytesHashed, long totalBytes) {
      if (totalBytes < PROGRESS_THRESHOLD_BYTES) {
        return;
      }
      long now = System.nanoTime();
      if (bytesHashed < totalBytes && now - lastPrint < 500_000_000L) {
        return;
      }
      lastPrint = now;
      double seconds = Math.max(1e-9, (now - start) / 1e9);
      err.printf(
          Locale.ROOT,
          "\rhashed %s of %s (%.0f MB/s)%s",
          bytes(bytesHashed),
          bytes(totalBytes),
          bytesHashed / 1e6 / seconds,
          bytesHashed >= totalBytes ? "\n" : "");
      err.flush();
      printed = true;
    }

    boolean printed() {
      return printed;
    }
  }
}
