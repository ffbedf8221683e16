package io.edgeslm.agent.internal.sensor.uns;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One configured Unified Namespace topic pattern and how a matching topic becomes a sensor. A
 * pattern is an MQTT filter whose single-level wildcards may carry a name, {@code
 * plant/+site/+line/+machine/+metric}; the named levels fill the {@code {name}} placeholders of the
 * id, alias and unit templates. Pure and immutable.
 *
 * @param name the configuration key
 * @param pattern the topic pattern as configured
 * @param idTemplate the sensor id ({@code {topic}} is the whole topic)
 * @param aliasTemplate the name operators use, or null for the id
 * @param unitTemplate the unit, or null to take it from the payload
 * @param normalMin lower end of the normal range, or NaN for none
 * @param normalMax upper end, or NaN for none
 * @param valuePointer a JSON pointer to the value in the payload, or null for a number or a {@code
 *     {value, unit, timestamp}} object
 * @param window samples kept per sensor
 */
public record UnsRoute(
    String name,
    String pattern,
    String idTemplate,
    String aliasTemplate,
    String unitTemplate,
    double normalMin,
    double normalMax,
    String valuePointer,
    int window) {

  private static final Pattern LEVEL_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,31}");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)}");

  public UnsRoute {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(pattern, "pattern");
    Objects.requireNonNull(idTemplate, "idTemplate");
  }

  /**
   * A broken rule.
   *
   * @param field the configuration key suffix ({@code topic}, {@code sensor-id}, {@code alias},
   *     {@code unit}, {@code value-pointer})
   * @param rule what was expected, in words
   */
  public record Problem(String field, String rule) {}

  /**
   * Checks the pattern and templates.
   *
   * @return the first rule broken, or empty when the route is usable
   */
  public Optional<Problem> problem() {
    String[] levels = pattern.split("/", -1);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < levels.length; i++) {
      String l = levels[i];
      if (l.equals("#")) {
        if (i != levels.length - 1) {
          return topicProblem("'#' may only be the last level");
        }
      } else if (l.startsWith("+")) {
        String n = l.substring(1);
        if (!n.isEmpty() && !LEVEL_NAME.matcher(n).matches()) {
          return topicProblem(
              "a named level is '+' and 1-32 letters, digits, '_' or '-' starting with a letter:"
                  + " got '"
                  + l
                  + "'");
        }
        if (!n.isEmpty()) {
          if (names.contains(n)) {
            return topicProblem("the level name '" + n + "' is used twice");
          }
          names.add(n);
        }
      } else if (l.contains("+") || l.contains("#")) {
        return topicProblem("wildcards fill a whole level: got '" + l + "'");
      }
    }
    if (pattern.startsWith("$")) {
      return topicProblem("a pattern may not start with '$' (broker-internal topics)");
    }
    names.add("topic");
    String[][] templates = {
      {"sensor-id", idTemplate}, {"alias", aliasTemplate}, {"unit", unitTemplate}
    };
    for (String[] t : templates) {
      if (t[1] == null) {
        continue;
      }
      Matcher m = PLACEHOLDER.matcher(t[1]);
      while (m.find()) {
        if (!names.contains(m.group(1))) {
          return Optional.of(
              new Problem(
                  t[0],
                  "placeholders the pattern names ("
                      + String.join(", ", names.stream().map(n -> "{" + n + "}").toList())
                      + "); {"
                      + m.group(1)
                      + "} is not one"));
        }
      }
    }
    if (valuePointer != null && !valuePointer.isEmpty() && !valuePointer.startsWith("/")) {
      return Optional.of(new Problem("value-pointer", "a JSON pointer, starting with '/'"));
    }
    return Optional.empty();
  }

  private static Optional<Problem> topicProblem(String rule) {
    return Optional.of(new Problem("topic", "an MQTT topic pattern: " + rule));
  }

  /** The MQTT subscription filter: the pattern with level names removed. */
  public String filter() {
    String[] levels = pattern.split("/", -1);
    for (int i = 0; i < levels.length; i++) {
      if (levels[i].startsWith("+")) {
        levels[i] = "+";
      }
    }
    return String.join("/", levels);
  }

  /** Literal levels: a topic matching several patterns goes to the most specific one. */
  public int specificity() {
    int n = 0;
    for (String l : pattern.split("/", -1)) {
      if (!l.startsWith("+") && !l.equals("#")) {
        n++;
      }
    }
    return n;
  }

  /**
   * The named levels of {@code topic} (and {@code topic} itself), or empty if it does not match.
   */
  public Optional<Map<String, String>> match(String topic) {
    String[] p = pattern.split("/", -1);
    String[] t = topic.split("/", -1);
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < p.length; i++) {
      if (p[i].equals("#")) {
        out.put("topic", topic);
        return Optional.of(out);
      }
      if (i >= t.length) {
        return Optional.empty();
      }
      if (p[i].startsWith("+")) {
        if (p[i].length() > 1) {
          out.put(p[i].substring(1), t[i]);
        }
      } else if (!p[i].equals(t[i])) {
        return Optional.empty();
      }
    }
    if (t.length != p.length) {
      return Optional.empty();
    }
    out.put("topic", topic);
    return Optional.of(out);
  }

  /** Whether the MQTT filter {@code filter} matches the topic name {@code topic}. */
  public static boolean filterMatches(String filter, String topic) {
    String[] f = filter.split("/", -1);
    String[] t = topic.split("/", -1);
    for (int i = 0; i < f.length; i++) {
      if (f[i].equals("#")) {
        return true;
      }
      if (i >= t.length || !(f[i].equals("+") || f[i].equals(t[i]))) {
        return false;
      }
    }
    return f.length == t.length;
  }

  /** Whether every topic {@code inner} matches is also matched by {@code outer}. */
  public static boolean covers(String outer, String inner) {
    String[] o = outer.split("/", -1);
    String[] n = inner.split("/", -1);
    for (int i = 0; i < o.length; i++) {
      if (o[i].equals("#")) {
        return true;
      }
      if (i >= n.length || n[i].equals("#") || !(o[i].equals("+") || o[i].equals(n[i]))) {
        return false;
      }
    }
    return o.length == n.length;
  }

  /** Fills a template's placeholders. */
  public static String render(String template, Map<String, String> levels) {
    Matcher m = PLACEHOLDER.matcher(template);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(b, Matcher.quoteReplacement(levels.getOrDefault(m.group(1), "")));
    }
    m.appendTail(b);
    return b.toString();
  }
}
