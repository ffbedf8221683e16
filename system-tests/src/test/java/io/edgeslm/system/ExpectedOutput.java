package io.edgeslm.system;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What the tour shows after a command ({@code ```text expect}), as a pattern over what the command
 * printed: a line that is only {@code …} stands for any number of lines (none included); a {@code
 * …} inside a line stands for any text on that line (ids, digests, times, sizes). Everything else
 * is literal. Trailing blanks of each line and trailing empty lines are ignored on both sides, so
 * that a table's padding after its last column does not matter. Pure: no I/O.
 */
final class ExpectedOutput {

  static final String ELLIPSIS = "…";

  private final List<String> source;
  private final List<Pattern> lines; // null entries: a line of its own "…"

  private ExpectedOutput(List<String> source) {
    this.source = source;
    this.lines = new ArrayList<>();
    for (String l : source) {
      lines.add(l.equals(ELLIPSIS) ? null : linePattern(l));
    }
  }

  /** The pattern of an expect block's text. */
  static ExpectedOutput of(String expect) {
    return new ExpectedOutput(normalized(expect));
  }

  /** True if {@code output} is all that the pattern allows, from its first line to its last. */
  boolean matches(String output) {
    return matches(normalized(output), false);
  }

  /**
   * True if {@code output} starts with what the pattern allows: for a program that keeps running
   * and printing, once what the tour shows has appeared.
   */
  boolean matchesStartOf(String output) {
    return matches(normalized(output), true);
  }

  /**
   * The first expect line that the output cannot get past (1-based), for a failure message: the
   * longest prefix of the pattern some prefix of the output matches, plus one.
   */
  int firstUnmatchedLine(String output) {
    List<String> out = normalized(output);
    for (int n = lines.size(); n > 0; n--) {
      if (new ExpectedOutput(source.subList(0, n)).matches(out, true)) {
        return n + 1;
      }
    }
    return 1;
  }

  @Override
  public String toString() {
    return String.join("\n", source);
  }

  private boolean matches(List<String> out, boolean prefix) {
    // can[i][j]: pattern lines i.. match output lines j.. (the whole rest, or a prefix of it).
    int p = lines.size();
    int o = out.size();
    boolean[][] can = new boolean[p + 1][o + 1];
    for (int j = 0; j <= o; j++) {
      can[p][j] = prefix || j == o;
    }
    for (int i = p - 1; i >= 0; i--) {
      Pattern line = lines.get(i);
      for (int j = o; j >= 0; j--) {
        if (line == null) {
          can[i][j] = can[i + 1][j] || (j < o && can[i][j + 1]);
        } else {
          can[i][j] = j < o && line.matcher(out.get(j)).matches() && can[i + 1][j + 1];
        }
      }
    }
    return can[0][0];
  }

  private static Pattern linePattern(String line) {
    StringBuilder regex = new StringBuilder();
    int from = 0;
    for (int at = line.indexOf(ELLIPSIS); at >= 0; at = line.indexOf(ELLIPSIS, from)) {
      regex.append(Pattern.quote(line.substring(from, at))).append(".*");
      from = at + ELLIPSIS.length();
    }
    regex.append(Pattern.quote(line.substring(from)));
    return Pattern.compile(regex.toString());
  }

  private static List<String> normalized(String text) {
    List<String> out = new ArrayList<>();
    text.lines().map(l -> l.replaceAll("\\s+$", "")).forEach(out::add);
    while (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) {
      out.remove(out.size() - 1);
    }
    return out;
  }
}
