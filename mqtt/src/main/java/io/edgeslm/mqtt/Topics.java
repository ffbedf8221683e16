package io.edgeslm.mqtt;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** Topic names and filters as MQTT 5 section 4.7 defines them. Pure. */
public final class Topics {

  private static final int MAX_BYTES = 65_535;

  private static final String SHARE = "$share/";

  private Topics() {}

  /**
   * Checks a topic name for PUBLISH: non-empty, at most 65535 UTF-8 bytes, no {@code +}, {@code #}
   * or NUL.
   *
   * @throws IllegalArgumentException naming the rule and the topic
   */
  public static void requirePublishable(String topic) {
    Objects.requireNonNull(topic, "topic");
    checkLength(topic);
    if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0 || topic.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "A topic name to publish to must not contain '+', '#' or NUL (MQTT 5 section 4.7):"
              + " got '"
              + topic
              + "'");
    }
  }

  /**
   * Checks a topic filter for SUBSCRIBE: {@code #} only as the last whole level, {@code +} only as
   * a whole level.
   *
   * @throws IllegalArgumentException naming the rule and the filter
   */
  public static void requireFilter(String filter) {
    Objects.requireNonNull(filter, "filter");
    checkLength(filter);
    String[] levels = filter.split("/", -1);
    for (int i = 0; i < levels.length; i++) {
      String l = levels[i];
      boolean hash = l.indexOf('#') >= 0;
      boolean plus = l.indexOf('+') >= 0;
      if ((hash && (!l.equals("#") || i != levels.length - 1)) || (plus && !l.equals("+"))) {
        throw new IllegalArgumentException(
            "In a topic filter '#' may only be the last whole level and '+' only a whole level"
                + " (MQTT 5 section 4.7.1): got '"
                + filter
                + "'");
      }
    }
  }

  /**
   * Whether {@code topic} matches {@code filter}. A filter starting with a wildcard does not match
   * a topic starting with {@code $} (MQTT 5 section 4.7.2). A shared subscription's filter, {@code
   * $share/{group}/{filter}} (section 4.8.2), matches what its {@code {filter}} part matches: the
   * broker delivers such messages under their own topic name, without the prefix.
   */
  public static boolean matches(String filter, String topic) {
    filter = withoutShare(filter);
    if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) {
      return false;
    }
    String[] f = filter.split("/", -1);
    String[] t = topic.split("/", -1);
    for (int i = 0; i < f.length; i++) {
      if (f[i].equals("#")) {
        return true;
      }
      if (i >= t.length || (!f[i].equals("+") && !f[i].equals(t[i]))) {
        return false;
      }
    }
    return f.length == t.length;
  }

  /** The filter of {@code $share/{group}/{filter}}, or {@code filter} itself if not shared. */
  static String withoutShare(String filter) {
    if (!filter.startsWith(SHARE)) {
      return filter;
    }
    int slash = filter.indexOf('/', SHARE.length());
    return slash < 0 ? filter : filter.substring(slash + 1);
  }

  private static void checkLength(String s) {
    int bytes = s.getBytes(StandardCharsets.UTF_8).length;
    if (bytes == 0 || bytes > MAX_BYTES) {
      throw new IllegalArgumentException(
          "A topic must have 1 to 65535 UTF-8 bytes (MQTT 5 section 1.5.4): got " + bytes);
    }
  }
}
