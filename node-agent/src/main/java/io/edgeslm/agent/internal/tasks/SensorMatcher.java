package io.edgeslm.agent.internal.tasks;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
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
   * The words of sensor names (ids and aliases) already split, since the same names are matched for
   * every question. Bounded: cleared when it outgrows what a node's sensors can fill.
   */
  private static final Map<String, List<String>> NAME_WORDS = new ConcurrentHashMap<>();

  private static final int NAME_WORDS_KEPT = 4096;

  /** Matches best first; empty when nothing in the question names a sensor. */
  public static List<Match> match(String question, List<SensorState> snapshot) {
    return match(words(question), snapshot);
  }

  /** {@link #match} for a question already split into {@link #words}. */
  static List<Match> match(List<String> questionWords, List<SensorState> snapshot) {
    String q = " " + String.join(" ", questionWords) + " ";
    Set<String> qWords = new HashSet<>(questionWords);
    List<Match> out = new ArrayList<>();
    for (SensorState s : snapshot) {
      double best = 0;
      List<String> names = new ArrayList<>(s.aliases());
      names.add(s.sensor());
      for (String name : names) {
        List<String> nWords = nameWords(name);
        if (nWords.isEmpty()) {
          continue;
        }
        String phrase = " " + String.join(" ", nWords) + " ";
        double score;
        if (numbersDisagree(nWords, qWords)) {
          // "press 3" in the question rules out "press 4" however many other words match.
          score = 0;
        } else if (q.contains(phrase)) {
          score = 2.0 + nWords.size() * 0.01;
        } else {
          long hits =
              nWords.stream().filter(w -> !STOP.contains(w)).filter(qWords::contains).count();
          long total = nWords.stream().filter(w -> !STOP.contains(w)).count();
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
      }
    }
    if (out.isEmpty()) {
      return out;
    }
    double top = out.stream().mapToDouble(Match::score).max().orElse(0);
    return out.stream()
        .filter(m -> m.score() >= top / 2)
        .sorted(Comparator.comparingDouble(Match::score).reversed())
        .toList();
  }

  /** {@link #words} of a sensor name, remembered. */
  private static List<String> nameWords(String name) {
    List<String> known = NAME_WORDS.get(name);
    if (known != null) {
      return known;
    }
    List<String> w = words(name);
    if (NAME_WORDS.size() >= NAME_WORDS_KEPT) {
      NAME_WORDS.clear();
    }
    NAME_WORDS.put(name, w);
    return w;
  }

  private static boolean numbersDisagree(List<String> name, Set<String> question) {
    List<String> nameNumbers = name.stream().filter(SensorMatcher::isNumber).toList();
    boolean questionHasNumbers = question.stream().anyMatch(SensorMatcher::isNumber);
    return !nameNumbers.isEmpty()
        && questionHasNumbers
        && nameNumbers.stream().noneMatch(question::contains);
  }

  private static boolean isNumber(String w) {
    return !w.isEmpty() && w.chars().allMatch(Character::isDigit);
  }

  /** Lower-case words of letters and digits; accents folded; "press3" splits to "press 3". */
  static List<String> words(String s) {
    return pieces(s).stream()
        .filter(w -> w.length() > 1 || Character.isDigit(w.isEmpty() ? 'x' : w.charAt(0)))
        .filter(w -> !w.isEmpty())
        .map(w -> w.equals("temp") ? "temperature" : w)
        // Plural and singular alike ("temperatures"); applied to both sides, so "press" -> "pres"
        // is harmless.
        .map(w -> w.length() > 3 && w.endsWith("s") ? w.substring(0, w.length() - 1) : w)
        .toList();
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
