package io.edgeslm.signing.internal.bundle;

import io.edgeslm.signing.BundleLimits;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.SigningIoException;
import io.edgeslm.signing.TamperedArtifactException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Lists the regular files of a model directory without following links. Links, devices, pipes and
 * sockets are refused rather than skipped (OMS {@code allow_symlinks: false}; attack A9), and the
 * walk stops at the file-count bound so a directory of a million files cannot stall the verifier.
 */
public final class ModelTree {

  /** Whether a bad entry is the signer's input problem or a sign of tampering. */
  public enum Mode {
    SIGN,
    VERIFY
  }

  /** One regular file: its OMS name, path and size at scan time. */
  public record Entry(String name, Path path, long size) {}

  private ModelTree() {}

  /**
   * The regular files below {@code root}, sorted by name, except ignored ones.
   *
   * @param root the model directory, already resolved to its real path
   */
  public static List<Entry> scan(
      Path root, Collection<String> ignorePaths, BundleLimits limits, Mode mode)
      throws SigningException {
    Scan scan = scan(root, ignorePaths, limits, mode, false);
    return scan.entries();
  }

  /**
   * A scan whose per-file refusals (links, special files, bad names) are collected rather than
   * thrown, so that a verifier can start hashing before it knows the signed ignore paths and raise
   * only the refusals that are not ignored.
   *
   * @param problems refusals by name, in walk order
   */
  public record Scan(List<Entry> entries, Map<String, SigningException> problems) {
    /** Throws the first problem whose name is not ignored. */
    public void throwFirstProblem(Collection<String> ignorePaths) throws SigningException {
      for (Map.Entry<String, SigningException> p : problems.entrySet()) {
        if (!ResourceNames.isIgnored(p.getKey(), ignorePaths)) {
          throw p.getValue();
        }
      }
    }
  }

  public static Scan scan(
      Path root, Collection<String> ignorePaths, BundleLimits limits, Mode mode, boolean lenient)
      throws SigningException {
    Map<String, SigningException> problems = new LinkedHashMap<>();
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new MalformedInputException(
          root
              + " is not a directory. Pass the model directory (the folder that holds the files).");
    }
    List<Entry> entries = new ArrayList<>();
    try {
      Files.walkFileTree(
          root,
          EnumSet.noneOf(java.nio.file.FileVisitOption.class),
          BundleLimits.MAX_DEPTH + 1,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
              if (dir.equals(root)) {
                return FileVisitResult.CONTINUE;
              }
              String name = ResourceNames.relativeName(root, dir);
              if (ResourceNames.isIgnored(name, ignorePaths)) {
                return FileVisitResult.SKIP_SUBTREE;
              }
              if (dir.getNameCount() - root.getNameCount() >= BundleLimits.MAX_DEPTH) {
                throw fail(
                    new MalformedInputException(
                        "Directory '"
                            + name
                            + "' is nested deeper than "
                            + BundleLimits.MAX_DEPTH
                            + " levels below "
                            + root
                            + " (rule: bounded depth). Flatten the model directory."));
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              String name = ResourceNames.relativeName(root, file);
              if (ResourceNames.isIgnored(name, ignorePaths)) {
                return FileVisitResult.CONTINUE;
              }
              if (attrs.isSymbolicLink()) {
                return problem(
                    refuse(mode, root, name, "is a symbolic link", linkNextStep(mode)), name);
              }
              if (!attrs.isRegularFile()) {
                return problem(
                    refuse(
                        mode,
                        root,
                        name,
                        "is not a regular file (device, pipe or socket)",
                        "remove it from the model directory"),
                    name);
              }
              Optional<String> bad = ResourceNames.violation(name, limits.maxNameLength());
              if (bad.isPresent()) {
                return problem(
                    refuse(
                        mode,
                        root,
                        name,
                        "has a name that breaks a rule: " + bad.get(),
                        "rename or remove it"),
                    name);
              }
              if (entries.size() >= limits.maxFiles()) {
                throw fail(
                    new MalformedInputException(
                        root
                            + " holds more than "
                            + limits.maxFiles()
                            + " files (rule: bounded file count). Remove unrelated files or"
                            + " raise the limit."));
              }
              entries.add(new Entry(name, file, attrs.size()));
              return FileVisitResult.CONTINUE;
            }

            private FileVisitResult problem(SigningException e, String name) {
              if (!lenient) {
                throw fail(e);
              }
              if (problems.size() < limits.maxFiles()) {
                problems.put(name, e);
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
              throw exc;
            }
          });
    } catch (Wrapped w) {
      throw w.error;
    } catch (IOException | UncheckedIOException e) {
      throw new SigningIoException(
          "Cannot list " + root + ": " + e.getMessage() + ". Check that it exists and is readable.",
          e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
    }
    entries.sort(Comparator.comparing(Entry::name));
    return new Scan(List.copyOf(entries), problems);
  }

  private static String linkNextStep(Mode mode) {
    return mode == Mode.SIGN
        ? "replace the link by the file it points to (links are never signed)"
        : "bundles never contain links; re-copy the bundle without following links";
  }

  private static SigningException refuse(
      Mode mode, Path root, String name, String what, String next) {
    String msg = "'" + name + "' in " + root + " " + what + ". Next step: " + next + ".";
    return mode == Mode.SIGN
        ? new MalformedInputException(msg)
        : new TamperedArtifactException(msg);
  }

  private static Wrapped fail(SigningException e) {
    return new Wrapped(e);
  }

  /** Carries a checked SigningException out of the visitor. */
  private static final class Wrapped extends RuntimeException {
    final transient SigningException error;

    Wrapped(SigningException cause) {
      super(cause.getMessage(), cause, false, false);
      this.error = cause;
    }
  }
}
