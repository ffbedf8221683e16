package io.edgeslm.inference.internal.http;

/**
 * Cuts {@code <think>...</think>} spans out of streamed text, for reasoning models (Qwen3 and
 * others write their thoughts between these tags) when the caller wants only the answer. Tags may
 * be split across pieces; text that could be the start of a tag is held back until the next piece
 * decides. An unclosed span swallows the rest of the stream. Leading whitespace right after a
 * closing tag is dropped (templates put a blank line there). Pure; one instance per stream.
 */
public final class ThinkFilter {
  private static final String OPEN = "<think>";
  private static final String CLOSE = "</think>";

  private final StringBuilder pending = new StringBuilder();
  private boolean inside;
  private boolean afterClose;

  /** Takes the next piece and returns the text that may be shown now (possibly empty). */
  public String accept(String piece) {
    pending.append(piece);
    StringBuilder out = new StringBuilder();
    while (true) {
      if (inside) {
        int end = pending.indexOf(CLOSE);
        if (end < 0) {
          // Keep only what could still be the start of the closing tag.
          keepPossiblePrefix(CLOSE);
          return out.toString();
        }
        pending.delete(0, end + CLOSE.length());
        inside = false;
        afterClose = true;
      }
      if (afterClose) {
        int i = 0;
        while (i < pending.length() && Character.isWhitespace(pending.charAt(i))) {
          i++;
        }
        pending.delete(0, i);
        if (pending.isEmpty()) {
          return out.toString();
        }
        afterClose = false;
      }
      int start = pending.indexOf(OPEN);
      if (start >= 0) {
        out.append(pending, 0, start);
        pending.delete(0, start + OPEN.length());
        inside = true;
        continue;
      }
      int hold = possiblePrefixLength(OPEN);
      out.append(pending, 0, pending.length() - hold);
      pending.delete(0, pending.length() - hold);
      return out.toString();
    }
  }

  /** The text held back at the end of the stream: a partial tag that never completed. */
  public String finish() {
    String rest = inside ? "" : pending.toString();
    pending.setLength(0);
    return rest;
  }

  /** Length of the longest suffix of pending that is a proper prefix of {@code tag}. */
  private int possiblePrefixLength(String tag) {
    int max = Math.min(tag.length() - 1, pending.length());
    for (int n = max; n > 0; n--) {
      if (tag.startsWith(pending.substring(pending.length() - n))) {
        return n;
      }
    }
    return 0;
  }

  private void keepPossiblePrefix(String tag) {
    int keep = possiblePrefixLength(tag);
    pending.delete(0, pending.length() - keep);
  }
}
