package io.edgeslm.agent.internal.store;

/**
 * Makes untrusted text (model output quoted in a failure, a file name from a stick, a controller's
 * message) safe for a journal detail, a result reason or the stick's result file: every control
 * character is written as an escape ({@code \n}, {@code \t}, {@code \r}, else {@code \\uXXXX}), so
 * the text stays on one line and passes the protocol's text rules, and the result is bounded.
 * Nothing is dropped silently: an escape shows what was there, and a cut is marked with "…".
 */
public final class Details {

  private Details() {}

  /**
   * The printable form of {@code raw}, at most {@code maxChars} characters; null stays null, and
   * blank text becomes {@code "(blank)"} (the protocol refuses blank details).
   */
  public static String printable(String raw, int maxChars) {
    if (raw == null) {
      return null;
    }
    if (maxChars < 8) {
      throw new IllegalArgumentException("maxChars must be at least 8: got " + maxChars);
    }
    StringBuilder sb = new StringBuilder(Math.min(raw.length(), maxChars) + 16);
    for (int i = 0; i < raw.length() && sb.length() < maxChars; i++) {
      char c = raw.charAt(i);
      switch (c) {
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (Character.isISOControl(c) || Character.isSurrogate(c) && !validPair(raw, i)) {
            sb.append(String.format("\\u%04X", (int) c));
          } else {
            sb.append(c);
            if (Character.isHighSurrogate(c)) {
              sb.append(raw.charAt(++i));
            }
          }
        }
      }
    }
    String s = sb.toString();
    boolean cut = sb.length() > maxChars || s.length() < escapedLength(raw);
    if (cut) {
      int end = maxChars - 1;
      if (end > 0 && Character.isHighSurrogate(s.charAt(end - 1))) {
        end--;
      }
      s = s.substring(0, Math.min(end, s.length())) + "…";
    }
    return s.isBlank() ? "(blank)" : s;
  }

  private static boolean validPair(String s, int i) {
    char c = s.charAt(i);
    return Character.isHighSurrogate(c)
        && i + 1 < s.length()
        && Character.isLowSurrogate(s.charAt(i + 1));
  }

  private static int escapedLength(String raw) {
    int n = 0;
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '\n' || c == '\t' || c == '\r') {
        n += 2;
      } else if (Character.isISOControl(c) || Character.isSurrogate(c) && !validPair(raw, i)) {
        n += 6;
      } else {
        n++;
        if (Character.isHighSurrogate(c)) {
          n++;
          i++;
        }
      }
    }
    return n;
  }
}
