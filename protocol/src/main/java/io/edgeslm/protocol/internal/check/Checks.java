package io.edgeslm.protocol.internal.check;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Field checks shared by the wire records. Every failure is an {@link IllegalArgumentException}
 * whose message names the field, the rule, the offending value and what to do instead, because
 * these messages travel back to whoever sent the payload.
 */
public final class Checks {

  /** Identifiers: site and node ids, model names, sensor ids, rule ids, request ids. */
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]*");

  private static final Pattern HEX_SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
  private static final Pattern BUNDLE_SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");
  private static final int QUOTE_LIMIT = 80;

  private Checks() {}

  /** Quotes a value for an error message, cut to a readable length. */
  public static String quote(Object value) {
    if (value == null) {
      return "null";
    }
    String s = String.valueOf(value);
    StringBuilder out = new StringBuilder(Math.min(s.length(), QUOTE_LIMIT) + 8).append('\'');
    int shown = Math.min(s.length(), QUOTE_LIMIT);
    for (int i = 0; i < shown; i++) {
      char c = s.charAt(i);
      out.append(Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : c);
    }
    if (s.length() > QUOTE_LIMIT) {
      out.append("…(").append(s.length()).append(" chars)");
    }
    return out.append('\'').toString();
  }

  /** A non-null object. */
  public static <T> T required(String field, T value) {
    if (value == null) {
      throw new IllegalArgumentException(field + " is required but missing. Set " + field + ".");
    }
    return value;
  }

  /** The schema version a reader of this library understands: 1 to {@code current}. */
  public static int schemaVersion(String type, int value, int current) {
    if (value < 1 || value > current) {
      throw new IllegalArgumentException(
          type
              + ".schemaVersion must be between 1 and "
              + current
              + ": got "
              + value
              + ". "
              + (value < 1
                  ? "Set schemaVersion to " + current + "."
                  : "The sender speaks a newer protocol; upgrade this reader."));
    }
    return value;
  }

  /** Non-blank text of at most {@code maxChars} characters, without control characters. */
  public static String text(String field, String value, int maxChars) {
    required(field, value);
    if (value.isBlank()) {
      throw new IllegalArgumentException(
          field + " must not be blank: got " + quote(value) + ". Put some text in " + field + ".");
    }
    return boundedText(field, value, maxChars);
  }

  /** Like {@link #text} but {@code null} is allowed. */
  public static String optionalText(String field, String value, int maxChars) {
    return value == null ? null : text(field, value, maxChars);
  }

  /**
   * The rule for a character of a text field: no ISO control character (U+0000 to U+001F, U+007F to
   * U+009F) other than tab, line feed and carriage return.
   */
  public static boolean allowedInText(char c) {
    return !Character.isISOControl(c) || c == '\n' || c == '\t' || c == '\r';
  }

  /**
   * Possibly empty text of at most {@code maxChars}, control characters other than \n\t refused.
   */
  public static String boundedText(String field, String value, int maxChars) {
    required(field, value);
    if (value.length() > maxChars) {
      throw new IllegalArgumentException(
          field
              + " must be at most "
              + maxChars
              + " characters: got "
              + value.length()
              + ". Shorten "
              + field
              + ".");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!allowedInText(c)) {
        throw new IllegalArgumentException(
            field
                + " must not contain control characters: found U+"
                + String.format("%04X", (int) c)
                + " at index "
                + i
                + " in "
                + quote(value)
                + ". Remove it.");
      }
    }
    return value;
  }

  /**
   * An identifier: 1 to {@code maxChars} characters from {@code A-Z a-z 0-9 . _ : -}, starting with
   * a letter or digit.
   */
  public static String identifier(String field, String value, int maxChars) {
    required(field, value);
    if (value.isEmpty() || value.length() > maxChars || !IDENTIFIER.matcher(value).matches()) {
      throw new IllegalArgumentException(
          field
              + " must be 1 to "
              + maxChars
              + " characters of A-Z a-z 0-9 . _ : - starting with a letter or digit: got "
              + quote(value)
              + ". Choose such an identifier.");
    }
    return value;
  }

  /** Like {@link #identifier} but {@code null} is allowed. */
  public static String optionalIdentifier(String field, String value, int maxChars) {
    return value == null ? null : identifier(field, value, maxChars);
  }

  /** A {@code long} in [min, max]. */
  public static long range(String field, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          field
              + " must be between "
              + min
              + " and "
              + max
              + ": got "
              + value
              + ". Use a value in that range.");
    }
    return value;
  }

  /** An {@code int} in [min, max]. */
  public static int range(String field, int value, int min, int max) {
    return (int) range(field, (long) value, min, (long) max);
  }

  /** Like {@link #range(String, long, long, long)} but {@code null} is allowed. */
  public static Long optionalRange(String field, Long value, long min, long max) {
    return value == null ? null : range(field, value.longValue(), min, max);
  }

  /** Like {@link #range(String, int, int, int)} but {@code null} is allowed. */
  public static Integer optionalRange(String field, Integer value, int min, int max) {
    return value == null ? null : range(field, value.intValue(), min, max);
  }

  /** A finite double (JSON has no NaN or infinity). */
  public static double finite(String field, double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(
          field + " must be a finite number: got " + value + ". Send a real measurement.");
    }
    return value;
  }

  /** A finite double in [min, max]. */
  public static double range(String field, double value, double min, double max) {
    finite(field, value);
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          field
              + " must be between "
              + min
              + " and "
              + max
              + ": got "
              + value
              + ". Use a value in that range.");
    }
    return value;
  }

  /** Like {@link #range(String, double, double, double)} but {@code null} is allowed. */
  public static Double optionalRange(String field, Double value, double min, double max) {
    return value == null ? null : range(field, value.doubleValue(), min, max);
  }

  /** A digest written {@code sha256:} followed by 64 lowercase hex digits. */
  public static String digest(String field, String value) {
    required(field, value);
    if (!DIGEST.matcher(value).matches()) {
      throw new IllegalArgumentException(
          field
              + " must be 'sha256:' followed by 64 lowercase hex digits: got "
              + quote(value)
              + ". Copy the digest from the bundle's signature.");
    }
    return value;
  }

  /** A bare SHA-256 in 64 lowercase hex digits. */
  public static String sha256Hex(String field, String value) {
    required(field, value);
    if (!HEX_SHA256.matcher(value).matches()) {
      throw new IllegalArgumentException(
          field
              + " must be 64 lowercase hex digits (a SHA-256): got "
              + quote(value)
              + ". Recompute the hash.");
    }
    return value;
  }

  /**
   * An immutable copy of a list of at most {@code maxItems} non-null elements; {@code null} reads
   * as an empty list.
   */
  public static <T> List<T> list(String field, List<T> value, int maxItems) {
    if (value == null) {
      return List.of();
    }
    if (value.size() > maxItems) {
      throw new IllegalArgumentException(
          field
              + " must have at most "
              + maxItems
              + " entries: got "
              + value.size()
              + ". Send fewer entries.");
    }
    for (int i = 0; i < value.size(); i++) {
      if (value.get(i) == null) {
        throw new IllegalArgumentException(
            field + "[" + i + "] is null. Remove the empty entry from " + field + ".");
      }
    }
    return List.copyOf(value);
  }

  /** Like {@link #list} but the list must have at least one element. */
  public static <T> List<T> nonEmptyList(String field, List<T> value, int maxItems) {
    List<T> copy = list(field, value, maxItems);
    if (copy.isEmpty()) {
      throw new IllegalArgumentException(
          field + " must have at least one entry: got none. Add an entry to " + field + ".");
    }
    return copy;
  }

  /**
   * A topic name a client may publish to (MQTT 5 section 4.7): 1 to 1024 characters, no wildcards,
   * no NUL, not starting with {@code $} (reserved for the broker).
   */
  public static String publishTopic(String field, String value) {
    required(field, value);
    String problem = null;
    if (value.isEmpty() || value.length() > 1024) {
      problem = "must be 1 to 1024 characters";
    } else if (value.indexOf('+') >= 0 || value.indexOf('#') >= 0) {
      problem = "must not contain the wildcards + or #";
    } else if (value.indexOf('\u0000') >= 0) {
      problem = "must not contain NUL";
    } else if (value.startsWith("$")) {
      problem = "must not start with $ (broker topics)";
    }
    if (problem != null) {
      throw new IllegalArgumentException(
          field
              + " "
              + problem
              + ": got "
              + quote(value)
              + ". Give a plain MQTT topic name such as 'operators/alice/replies'.");
    }
    return value;
  }

  /** Like {@link #publishTopic} but {@code null} is allowed. */
  public static String optionalPublishTopic(String field, String value) {
    return value == null ? null : publishTopic(field, value);
  }

  /**
   * A relative POSIX file path inside a bundle: 1 to 255 characters, segments of {@code A-Z a-z 0-9
   * . _ -} separated by single slashes, no {@code .} or {@code ..} segment, no leading slash.
   */
  public static String bundlePath(String field, String value) {
    required(field, value);
    boolean ok = !value.isEmpty() && value.length() <= 255;
    if (ok) {
      for (String segment : value.split("/", -1)) {
        if (segment.isEmpty()
            || segment.equals(".")
            || segment.equals("..")
            || !BUNDLE_SEGMENT.matcher(segment).matches()) {
          ok = false;
          break;
        }
      }
    }
    if (!ok) {
      throw new IllegalArgumentException(
          field
              + " must be a relative path of 1 to 255 characters, segments of A-Z a-z 0-9 . _ -"
              + " without '.', '..' or empty segments: got "
              + quote(value)
              + ". Use the file's path inside the bundle, e.g. 'model.gguf'.");
    }
    return value;
  }

  /** Throws with {@code message} unless {@code condition} holds. */
  public static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(Objects.requireNonNull(message));
    }
  }
}
