package io.edgeslm.fleet.internal.check;

import java.util.regex.Pattern;

/**
 * Argument checks for the controller's records. Every failure is an {@link
 * IllegalArgumentException} whose message names the rule, the value and the next step.
 */
public final class Checks {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]*");
  private static final int QUOTE_LIMIT = 80;

  private Checks() {}

  /** The value quoted for a message, shortened past 80 characters. */
  public static String quote(Object value) {
    if (value == null) {
      return "null";
    }
    String s = String.valueOf(value);
    if (s.length() > QUOTE_LIMIT) {
      s = s.substring(0, QUOTE_LIMIT) + "…";
    }
    return "'" + s + "'";
  }

  public static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  public static <T> T required(String field, T value) {
    check(value != null, field + " is required: got none. Set " + field + ".");
    return value;
  }

  /** An identifier: letters, digits, {@code . _ : -}, starting with a letter or digit. */
  public static String identifier(String field, String value, int maxChars) {
    required(field, value);
    check(
        value.length() <= maxChars && ID.matcher(value).matches(),
        field
            + " must be 1 to "
            + maxChars
            + " characters of A-Z a-z 0-9 . _ : - starting with a letter or digit: got "
            + quote(value)
            + ". Choose another "
            + field
            + ".");
    return value;
  }

  public static String text(String field, String value, int maxChars) {
    required(field, value);
    check(
        !value.isBlank() && value.length() <= maxChars,
        field
            + " must be 1 to "
            + maxChars
            + " characters and not blank: got "
            + value.length()
            + " characters. Shorten or fill in "
            + field
            + ".");
    return value;
  }

  public static String optionalText(String field, String value, int maxChars) {
    return value == null ? null : text(field, value, maxChars);
  }

  public static long range(String field, long value, long min, long max) {
    check(
        value >= min && value <= max,
        field
            + " must be between "
            + min
            + " and "
            + max
            + ": got "
            + value
            + ". Pick a value in range.");
    return value;
  }

  public static double range(String field, double value, double min, double max) {
    check(
        Double.isFinite(value) && value >= min && value <= max,
        field
            + " must be between "
            + min
            + " and "
            + max
            + ": got "
            + value
            + ". Pick a value in range.");
    return value;
  }
}
