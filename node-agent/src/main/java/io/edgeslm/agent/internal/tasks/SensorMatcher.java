package io.edgeslm.agent.internal.tasks;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Picks the sensors a question is about, by name and alias. Scores each sensor by the best of its
 * id and aliases: a name that occurs as a whole phrase in the question scores highest; otherwise
 * the share of the name's words found in the question (words of one letter are ignored, digits
 * count). A name whose numbers all differ from the numbers in the question scores zero, so "press
 * 3" never matches press 4. Sensors below half the best score are dropped.
 */
public final class SensorMatcher {
  static final Set<String> STOP =
      Set.of("the", "is", "of", "on", "at", "what", "whats", "how", "and", "in", "a", "an", "it");

  // Compiled once: words() runs several times for every question, on the way to the engine.
  private static final Pattern MARKS = Pattern.compile("\\p{M}");
  private static final Pattern LETTER_DIGIT = Pattern.compile("([a-z])([0-9])");
  private static final Pattern DIGIT_LETTER = Pattern.compile("([0-9])([a-z])");
  private static final Pattern NON_WORD = Pattern.compile("[^a-z0-9]+");

  private SensorMatcher() {}

  /** A sensor and how well it matched. */
  public record Match(SensorState sensor, double score) {}

  /**
   * What the matcher needs of one sensor name (id or alias), split once: the same names are matched
   * for every question.
   *
   * @param words the name's {@link #words}
   * @param phrase the words joined, with a space at either end
   * @param numbers the words that are numbers
   * @param content the words that are not {@link #STOP} words
   */
  private record Name(
      List<String> words, String phrase, List<String> numbers, List<String> content) {
    static Name of(String name) {
      List<String> w = SensorMatcher.words(name);
      List<String> numbers = new ArrayList<>();
      List<String> content = new ArrayList<>();
      for (String x : w) {
        if (isNumber(x)) {
          numbers.add(x);
        }
        if (!STOP.contains(x)) {
          content.add(x);
        }
      }
      return new Name(
          w, " " + String.join(" ", w) + " ", List.copyOf(numbers), List.copyOf(content));
    }
  }

  /** Split names, remembered. Bounded: cleared when it outgrows what a node's sensors can fill. */
  private static final Map<String, Name> NAMES = new ConcurrentHashMap<>();

  private static final int NAMES_KEPT = 4096;

  private static final Comparator<Match> BEST_FIRST =
      Comparator.comparingDouble(Match::score).reversed();

  /** Matches best first; empty when nothing in the question names a sensor. */
  public static List<Match> match(String question, List<SensorState> snapshot) {
    return match(words(question), snapshot);
  }

  /**
   * {@link #match} for a question already split into {@link #words}. Plain loops: this runs once
   * per question, too rarely for the JIT to compile it, so it runs interpreted, where every stream
   * stage costs microseconds.
   */
  static List<Match> match(List<String> questionWords, List<SensorState> snapshot) {
    String q = " " + String.join(" ", questionWords) + " ";
    Set<String> qWords = new HashSet<>(questionWords);
    boolean questionHasNumbers = false;
    for (String w : questionWords) {
      if (isNumber(w)) {
        questionHasNumbers = true;
        break;
      }
    }
    List<Match> out = new ArrayList<>();
    double top = 0;
    for (SensorState s : snapshot) {
      double best = 0;
      List<String> aliases = s.aliases();
      for (int i = 0; i <= aliases.size(); i++) {
        Name n = name(i < aliases.size() ? aliases.get(i) : s.sensor());
        if (n.words().isEmpty()) {
          continue;
        }
        double score;
        if (questionHasNumbers && numbersDisagree(n.numbers(), qWords)) {
          // "press 3" in the question rules out "press 4" however many other words match.
          score = 0;
        } else if (q.contains(n.phrase())) {
          score = 2.0 + n.words().size() * 0.01;
        } else {
          long hits = 0;
          for (String w : n.content()) {
            if (qWords.contains(w)) {
              hits++;
            }
          }
          long total = n.content().size();
          score = total == 0 ? 0 : (double) hits / total;
          // A single shared generic word ("temperature") is weak evidence: require two words or
          // the whole name.
          if (hits < 2 && hits < total) {
            score = hits == 0 ? 0 : score * 0.5;
          }
        }
        best = Math.max(best, score);
      }
      if (best > 0) {
        out.add(new Match(s, best));
        top = Math.max(top, best);
      }
    }
    if (out.isEmpty()) {
      return out;
    }
    List<Match> kept = new ArrayList<>(out.size());
    for (Match m : out) {
      if (m.score() >= top / 2) {
        kept.add(m);
      }
    }
    kept.sort(BEST_FIRST);
    return Collections.unmodifiableList(kept);
  }

  private static Name name(String name) {
    Name known = NAMES.get(name);
    if (known != null) {
      return known;
    }
    Name n = Name.of(name);
    if (NAMES.size() >= NAMES_KEPT) {
      NAMES.clear();
    }
    NAMES.put(name, n);
    return n;
  }

  /** The name has numbers and the question, which has some, has none of them. */
  private static boolean numbersDisagree(List<String> nameNumbers, Set<String> question) {
    if (nameNumbers.isEmpty()) {
      return false;
    }
    for (String n : nameNumbers) {
      if (question.contains(n)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isNumber(String w) {
    if (w.isEmpty()) {
      return false;
    }
    for (int i = 0; i < w.length(); i++) {
      if (!Character.isDigit(w.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** Lower-case words of letters and digits; accents folded; "press3" splits to "press 3". */
  static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    for (String w : pieces(s)) {
      if (w.isEmpty() || (w.length() == 1 && !Character.isDigit(w.charAt(0)))) {
        continue;
      }
      if (w.equals("temp")) {
        w = "temperature";
      }
      // Plural and singular alike ("temperatures"); applied to both sides, so "press" -> "pres"
      // is harmless.
      if (w.length() > 3 && w.endsWith("s")) {
        w = w.substring(0, w.length() - 1);
      }
      out.add(w);
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * The runs of letters and of digits, lower case, before the filters of {@link #words}. ASCII text
   * (the usual question and sensor name) is scanned in one pass: its NFD form is itself and it has
   * no combining marks, so the result is the same as the regular expressions give, which any other
   * text goes through.
   */
  private static List<String> pieces(String s) {
    List<String> out = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    int kind = 0; // 0: neither, 1: letter, 2: digit
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        String n = MARKS.matcher(Normalizer.normalize(s, Normalizer.Form.NFD)).replaceAll("");
        n = LETTER_DIGIT.matcher(n.toLowerCase(Locale.ROOT)).replaceAll("$1 $2");
        n = DIGIT_LETTER.matcher(n).replaceAll("$1 $2");
        return Arrays.asList(NON_WORD.split(n));
      }
      if (c >= 'A' && c <= 'Z') {
        c = (char) (c + ('a' - 'A'));
      }
      int k = c >= 'a' && c <= 'z' ? 1 : c >= '0' && c <= '9' ? 2 : 0;
      if (k != kind && w.length() > 0) {
        out.add(w.toString());
        w.setLength(0);
      }
      if (k != 0) {
        w.append(c);
      }
      kind = k;
    }
    if (w.length() > 0) {
      out.add(w.toString());
    }
    return out;
  }
}
