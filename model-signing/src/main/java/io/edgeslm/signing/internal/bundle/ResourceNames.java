package io.edgeslm.signing.internal.bundle;

import io.edgeslm.signing.BundleLimits;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Rules for resource names and ignore paths: relative POSIX paths inside the model directory. A
 * name that passes can be resolved against the model directory without leaving it (attack A9).
 */
public final class ResourceNames {
  private ResourceNames() {}

  /**
   * The broken rule for {@code name}, or empty when it is acceptable: non-empty, at most {@code
   * maxLength} characters, relative, segments separated by single '/', no '.' or '..' segment, no
   * backslash, no control characters, each segment at most {@link BundleLimits#MAX_SEGMENT_LENGTH}.
   */
  public static Optional<String> violation(String name, int maxLength) {
    if (name.isEmpty()) {
      return Optional.of("a name must not be empty");
    }
    if (name.length() > maxLength) {
      return Optional.of(
          "a name has at most " + maxLength + " characters, this has " + name.length());
    }
    if (name.startsWith("/")) {
      return Optional.of("a name must be relative to the model directory, not absolute");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return Optional.of(
            "a name must not contain control characters (found U+%04X)".formatted((int) c));
      }
      if (c == '\\') {
        return Optional.of("a name uses '/' as separator and must not contain '\\'");
      }
    }
    if (name.length() >= 2 && name.charAt(1) == ':' && Character.isLetter(name.charAt(0))) {
      return Optional.of("a name must not start with a drive letter");
    }
    for (String segment : name.split("/", -1)) {
      if (segment.isEmpty()) {
        return Optional.of("a name must not contain empty segments ('//' or a trailing '/')");
      }
      if (segment.equals("..")) {
        return Optional.of("a name must not contain '..' segments (path escape)");
      }
      if (segment.equals(".")) {
        return Optional.of("a name must not contain '.' segments");
      }
      if (segment.length() > BundleLimits.MAX_SEGMENT_LENGTH) {
        return Optional.of(
            "a path segment has at most " + BundleLimits.MAX_SEGMENT_LENGTH + " characters");
      }
    }
    return Optional.empty();
  }

  /** The POSIX name of {@code file} relative to {@code root} (which must contain it). */
  public static String relativeName(Path root, Path file) {
    Path rel = root.relativize(file);
    StringBuilder sb = new StringBuilder();
    for (Path part : rel) {
      if (!sb.isEmpty()) {
        sb.append('/');
      }
      sb.append(part.toString());
    }
    return sb.toString();
  }

  /** Resolves an already checked name below root, refusing (defensively) anything that escapes. */
  public static Path resolve(Path root, String checkedName) {
    Path p = root.resolve(checkedName).normalize();
    if (!p.startsWith(root) || p.equals(root)) {
      throw new IllegalArgumentException("name escapes the model directory: " + checkedName);
    }
    return p;
  }

  /** True when {@code name} is an ignore path or lies below one. */
  public static boolean isIgnored(String name, Iterable<String> ignorePaths) {
    for (String ignored : ignorePaths) {
      if (name.equals(ignored)
          || (name.length() > ignored.length()
              && name.startsWith(ignored)
              && name.charAt(ignored.length()) == '/')) {
        return true;
      }
    }
    return false;
  }
}
