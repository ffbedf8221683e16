package io.edgeslm.agent.internal.tasks;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The deterministic answer to an operator's question, from the sensors' latest values. It says what
 * it knows and what it does not:
 *
 * <ul>
 *   <li>a question about ranges ("Is anything out of range?", "Is press 3 within limits?") is
 *       answered from every sensor's normal range (those the question names, else all): which are
 *       outside it, or that none is;
 *   <li>a question that names a machine but a quantity none of its sensors measures ("What is the
 *       vibration of press 3?") says so plainly, then lists what the machine does have;
 *   <li>otherwise the sensors the question names, or, when it names none, the sensors there are.
 * </ul>
 *
 * <p>Pure: the caller passes the clock's instant.
 */
final class RuleAnswer {

  /** The text and the sensors it quotes. */
  record Result(String text, List<SensorState> cited) {}

  private static final int MAX_LISTED = 8;

  /** Words that make a question about normal ranges. */
  private static final Set<String> RANGE_WORDS =
      Set.of("range", "limit", "normal", "abnormal", "anomaly", "anomalie", "alarm", "wrong");

  /**
   * Words that ask for a value without naming a quantity ("what is the current reading of press
   * 3"), in the matcher's normalized form.
   */
  private static final Set<String> GENERIC =
      Set.of(
          "value",
          "reading",
          "current",
          "currently",
          "now",
          "latest",
          "tell",
          "me",
          "show",
          "give",
          "are",
          "was",
          "does",
          "do",
          "can",
          "you",
          "please",
          "for",
          "its",
          "there",
          "any",
          "level",
          "status",
          "sensor",
          "right",
          "to",
          "about",
          "all",
          "which",
          "with",
          "has",
          "doing",
          "going",
          "look",
          "looking",
          "running",
          "working",
          "everything",
          "anything",
          "something",
          "ok",
          "okay",
          "fine",
          "state",
          "condition",
          "why",
          "when",
          "where",
          "who",
          "like",
          "happening",
          "up",
          "info",
          "information",
          "overview",
          "summary",
          "report",
          "check",
          "see",
          "know",
          "say",
          "should",
          "could",
          "would",
          "be",
          "been",
          "get",
          "got",
          "hot",
          "cold",
          "high",
          "low",
          "fast",
          "slow",
          "machine",
          "line",
          "today",
          "this",
          "that",
          "my",
          "our",
          "we",
          "i");

  private RuleAnswer() {}

  /** Whether the question asks about normal ranges ("Is anything out of range?"). */
  static boolean isRangeQuestion(String question) {
    return isRangeQuestion(SensorMatcher.words(question));
  }

  /** {@link #isRangeQuestion} for a question already split into {@link SensorMatcher#words}. */
  static boolean isRangeQuestion(List<String> questionWords) {
    for (String w : questionWords) {
      if (RANGE_WORDS.contains(w)) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param question the operator's text
   * @param named the sensors the question names, best first ({@link SensorMatcher#match})
   * @param snapshot every sensor's latest value
   * @param now the time the answer is given, for the values' ages
   */
  static Result answer(
      String question, List<SensorState> named, List<SensorState> snapshot, Instant now) {
    if (snapshot.isEmpty()) {
      return new Result("This node has no sensor readings yet.", List.of());
    }
    List<String> qWords = SensorMatcher.words(question);
    if (qWords.stream().anyMatch(RANGE_WORDS::contains)) {
      return ranges(named.isEmpty() ? snapshot : named, now);
    }
    if (named.isEmpty()) {
      return new Result(
          "No sensor on this node matches the question. Known sensors: " + names(snapshot) + ".",
          List.of());
    }
    List<String> missing = unmeasured(question, qWords, named);
    if (!missing.isEmpty()) {
      String machine = machine(named.get(0));
      List<SensorState> has = named.stream().limit(MAX_LISTED).toList();
      StringBuilder b = new StringBuilder();
      b.append(machine == null ? "This node" : machine)
          .append(" has no ")
          .append(String.join(" ", missing))
          .append(" sensor. ")
          .append(machine == null ? "Its sensors that match the question: " : "Its sensors: ");
      b.append(described(has, now)).append('.');
      return new Result(b.toString(), has);
    }
    List<SensorState> cited = named.stream().limit(MAX_LISTED).toList();
    StringBuilder b = new StringBuilder();
    for (SensorState s : cited) {
      if (!b.isEmpty()) {
        b.append(' ');
      }
      b.append(OperatorQaTask.describe(s, now)).append('.');
    }
    return new Result(b.toString(), cited);
  }

  /** Which of {@code sensors} are outside their normal range. */
  private static Result ranges(List<SensorState> sensors, Instant now) {
    List<SensorState> ranged = sensors.stream().filter(s -> s.normal() != null).toList();
    if (ranged.isEmpty()) {
      return new Result(
          "No sensor here has a normal range configured, so none can be out of range. Sensors: "
              + names(sensors)
              + ".",
          List.of());
    }
    List<SensorState> outside =
        ranged.stream().filter(s -> !s.normal().contains(s.value())).toList();
    List<SensorState> unranged = sensors.stream().filter(s -> s.normal() == null).toList();
    StringBuilder b = new StringBuilder();
    List<SensorState> cited;
    if (outside.isEmpty()) {
      b.append(
          ranged.size() == 1
              ? "No sensor is out of range: the one sensor with a normal range is within it."
              : "No sensor is out of range: all "
                  + ranged.size()
                  + " sensors with a normal range are within it.");
      cited = ranged.stream().limit(MAX_LISTED).toList();
    } else {
      cited = outside.stream().limit(MAX_LISTED).toList();
      b.append(outside.size())
          .append(" of ")
          .append(ranged.size())
          .append(ranged.size() == 1 ? " sensor" : " sensors")
          .append(" with a normal range ")
          .append(outside.size() == 1 ? "is" : "are")
          .append(" out of range: ")
          .append(described(cited, now));
      if (outside.size() > cited.size()) {
        b.append("; and ").append(outside.size() - cited.size()).append(" more");
      }
      b.append('.');
    }
    if (!unranged.isEmpty()) {
      b.append(' ')
          .append(unranged.size() == 1 ? "1 sensor has" : unranged.size() + " sensors have")
          .append(" no normal range configured: ")
          .append(names(unranged))
          .append('.');
    }
    return new Result(b.toString(), cited);
  }

  /**
   * The question's words that name a quantity none of {@code named} measures: what is left of the
   * question after its stop words, numbers, generic words and every word of the named sensors'
   * names. Empty when some named sensor's quantity (a name word that is not the machine) appears in
   * the question.
   */
  private static List<String> unmeasured(
      String question, List<String> qWords, List<SensorState> named) {
    Set<String> nameWords = new LinkedHashSet<>();
    Set<String> quantityWords = new LinkedHashSet<>();
    for (SensorState s : named) {
      List<String> all = new ArrayList<>(s.aliases());
      all.add(s.sensor());
      for (String name : all) {
        List<String> w = SensorMatcher.words(name);
        nameWords.addAll(w);
        for (int i = 0; i < w.size(); i++) {
          boolean number = isNumber(w.get(i));
          boolean beforeNumber = i + 1 < w.size() && isNumber(w.get(i + 1));
          if (!number && !beforeNumber && !SensorMatcher.STOP.contains(w.get(i))) {
            quantityWords.add(w.get(i));
          }
        }
      }
    }
    if (qWords.stream().anyMatch(quantityWords::contains)) {
      return List.of();
    }
    // The question's own words, in its order and spelling, whose normalized form is left over.
    List<String> out = new ArrayList<>();
    for (String raw : question.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      List<String> norm = SensorMatcher.words(raw);
      if (norm.size() != 1) {
        continue;
      }
      String w = norm.get(0);
      if (!SensorMatcher.STOP.contains(w)
          && !GENERIC.contains(w)
          && !isNumber(w)
          && !nameWords.contains(w)
          && !out.contains(raw)) {
        out.add(raw);
      }
    }
    return out;
  }

  /** "Press 3" from "Press 3 oil temperature": the display name up to its first number. */
  private static String machine(SensorState s) {
    String[] words = s.displayName().split(" ");
    for (int i = 0; i < words.length; i++) {
      if (isNumber(words[i])) {
        return String.join(" ", java.util.Arrays.copyOfRange(words, 0, i + 1));
      }
    }
    return null;
  }

  private static String described(List<SensorState> sensors, Instant now) {
    List<String> parts = new ArrayList<>();
    for (SensorState s : sensors) {
      parts.add(OperatorQaTask.describe(s, now));
    }
    return String.join("; ", parts);
  }

  /** Display names, comma-separated, cut after about 1000 characters. */
  private static String names(List<SensorState> sensors) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < sensors.size(); i++) {
      String part = (i == 0 ? "" : ", ") + sensors.get(i).displayName();
      if (b.length() + part.length() > 1000) {
        b.append(", ...");
        break;
      }
      b.append(part);
    }
    return b.toString();
  }

  private static boolean isNumber(String w) {
    return !w.isEmpty() && w.chars().allMatch(Character::isDigit);
  }
}
