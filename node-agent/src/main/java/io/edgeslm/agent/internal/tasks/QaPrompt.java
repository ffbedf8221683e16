package io.edgeslm.agent.internal.tasks;

import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.protocol.Answer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The Q&amp;A prompt, laid out for the engine's prompt cache. llama-server (with {@code
 * cache_prompt}, every question pinned to one slot) keeps the KV cache of the previous prompt and
 * evaluates only what follows the longest common prefix, so the order is: what never changes
 * between questions (instructions, site notes, the catalogue of the node's sensors with units and
 * normal ranges, in the system message), then what changes only when a sensor does (one line per
 * value with the UTC time it was read, the same sensors in the same order whatever the question),
 * and last what every question changes (the current time, the sensors the question names, the
 * question). On unchanged sensors the next question costs only its own lines.
 *
 * <p>Rejected: a value's age ("read 2 s ago") instead of its reading time. Ages grow between two
 * questions, so every value line, and all after it, had to be evaluated again (measured: the next
 * question cost 0.42× the first on 20 sensors). Also rejected: only the question's own sensors in
 * the prompt, most relevant first; two questions naming different sensors then share nothing after
 * the catalogue. Pure.
 */
final class QaPrompt {
  static final String INSTRUCTIONS =
      "You assist operators of an industrial plant. Answer in at most three sentences, using only"
          + " the sensor readings and site notes given. Quote each value you use with its unit."
          + " Times are UTC. If the readings do not answer the question, say so.";

  /**
   * The order of the value lines: oldest reading first, then by sensor id. On unchanged sensors it
   * is the same for every question; when one sensor updates, its line moves to the end, so lines of
   * sensors that rarely change stay at the front, in the cached prefix.
   */
  static final Comparator<SensorState> VALUE_ORDER =
      Comparator.comparing(SensorState::readAt).thenComparing(SensorState::sensor);

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter DATE_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

  private QaPrompt() {}

  /** Counts a text in the model's tokens (a round trip to the engine, hence the exception). */
  @FunctionalInterface
  interface TokenCounter {
    int count(String text) throws InferenceException;
  }

  /**
   * A laid-out prompt.
   *
   * @param system the system message
   * @param user the user message
   * @param cited the sensors whose values the prompt carries and the answer cites
   */
  record Layout(String system, String user, List<SensorState> cited) {
    Layout {
      cited = List.copyOf(cited);
    }

    List<ChatMessage> messages() {
      return QaPrompt.messages(system, user);
    }
  }

  /**
   * Lays the prompt out for a question within {@code contextTokens} of sensor context.
   *
   * @param question the operator's question
   * @param relevant the sensors the question names, best match first (may be empty)
   * @param snapshot the node's latest values
   * @param siteNotes optional site notes, or null
   * @param now when the question is answered
   * @param contextTokens tokens the sensor catalogue and values may take
   * @param counter the model's token count
   * @throws InferenceException if counting fails
   */
  static Layout layout(
      String question,
      List<SensorState> relevant,
      List<SensorState> snapshot,
      String siteNotes,
      Instant now,
      int contextTokens,
      TokenCounter counter)
      throws InferenceException {
    // Which sensors may go in, by priority: the question's own first, then the rest in value
    // order; at most Answer.MAX_SENSORS. With a node of up to that many sensors this is all of
    // them, whatever the question.
    Set<SensorState> pool = new LinkedHashSet<>(relevant);
    snapshot.stream().sorted(VALUE_ORDER).forEach(pool::add);
    List<SensorState> candidates =
        List.copyOf(pool).subList(0, Math.min(pool.size(), Answer.MAX_SENSORS));
    // The catalogue lists the node's sensors by id. It may take half the sensor budget; past that
    // only the candidates are listed, and past that none (the value lines still carry names and
    // units).
    List<SensorState> catalogue =
        snapshot.stream()
            .sorted(Comparator.comparing(SensorState::sensor))
            .limit(Answer.MAX_SENSORS)
            .toList();
    // Each text is built once: the one counted is the one sent (the catalogue is already in
    // sensor id order, the order system() lists it in).
    String catalogueLines = lines(catalogue);
    int catalogueCost = catalogue.isEmpty() ? 0 : counter.count(catalogueLines);
    if (catalogueCost > contextTokens / 2) {
      catalogue = candidates;
      catalogueCost = catalogueCost(catalogue, counter);
      if (catalogueCost > contextTokens / 2) {
        catalogue = List.of();
        catalogueCost = 0;
      }
      catalogueLines = lines(sortedById(catalogue));
    }
    int budget = contextTokens - catalogueCost;
    List<SensorState> given = candidates.stream().sorted(VALUE_ORDER).toList();
    String values = block(given, now);
    // One count for the whole block: each count is a round trip to the engine, and the block
    // usually fits. Only when it does not are the lines counted one by one, by priority.
    if (!given.isEmpty() && counter.count(values) > budget) {
      List<SensorState> kept = new ArrayList<>();
      int used = 0;
      for (SensorState s : candidates) {
        int cost = counter.count(valueLine(s, now));
        if (used + cost > budget) {
          break;
        }
        used += cost;
        kept.add(s);
      }
      given = kept.stream().sorted(VALUE_ORDER).toList();
      values = block(given, now);
    }
    List<SensorState> named = relevant.stream().filter(given::contains).toList();
    return new Layout(
        systemWithLines(siteNotes, catalogueLines),
        user(values, named, now, question),
        relevant.isEmpty() ? given : named);
  }

  private static String block(List<SensorState> given, Instant now) {
    StringBuilder b = new StringBuilder();
    given.forEach(s -> b.append(valueLine(s, now)));
    return b.toString();
  }

  /** The catalogue lines of {@code sensors}, in the order given. */
  private static String lines(List<SensorState> sensors) {
    StringBuilder b = new StringBuilder();
    sensors.forEach(s -> b.append(catalogueLine(s)));
    return b.toString();
  }

  private static List<SensorState> sortedById(List<SensorState> sensors) {
    return sensors.stream().sorted(Comparator.comparing(SensorState::sensor)).toList();
  }

  private static int catalogueCost(List<SensorState> catalogue, TokenCounter counter)
      throws InferenceException {
    if (catalogue.isEmpty()) {
      return 0;
    }
    return counter.count(lines(catalogue));
  }

  /**
   * The stable part: instructions, site notes, and one catalogue line per sensor, sorted by sensor
   * id so that the order does not depend on the question or on arrival order.
   */
  static String system(String siteNotes, List<SensorState> catalogue) {
    return systemWithLines(siteNotes, lines(sortedById(catalogue)));
  }

  /** {@link #system} from the catalogue's lines, already in sensor id order ("" for none). */
  private static String systemWithLines(String siteNotes, String catalogueLines) {
    StringBuilder b = new StringBuilder(INSTRUCTIONS);
    if (siteNotes != null && !siteNotes.isBlank()) {
      b.append("\n\nSite notes: ").append(siteNotes.strip());
    }
    if (!catalogueLines.isEmpty()) {
      b.append("\n\nSensors on this node:\n").append(catalogueLines);
    }
    return b.toString();
  }

  /** "- Press 3 oil temperature (press3.oil): °C, normal 40–80". */
  static String catalogueLine(SensorState s) {
    StringBuilder b = new StringBuilder("- ").append(s.displayName());
    if (!s.displayName().equals(s.sensor())) {
      b.append(" (").append(s.sensor()).append(')');
    }
    if (s.unit() != null && !s.unit().isBlank()) {
      b.append(": ").append(s.unit());
    }
    if (s.normal() != null) {
      b.append(s.unit() != null && !s.unit().isBlank() ? ", " : ": ")
          .append("normal ")
          .append(Numbers.range(s.normal().min(), s.normal().max()));
    }
    return b.append('\n').toString();
  }

  /**
   * "- Press 3 oil temperature: 71.2 °C (above range), read at 10:00:02", the date added when it is
   * not the date of {@code now}; a stale value adds "; stale: " and why. Nothing in it changes
   * while the sensor does not.
   */
  static String valueLine(SensorState s, Instant now) {
    StringBuilder b = new StringBuilder("- ").append(s.displayName()).append(": ");
    b.append(Numbers.withUnit(s.value(), s.unit()));
    if (s.normal() != null) {
      if (s.value() > s.normal().max()) {
        b.append(" (above range)");
      } else if (s.value() < s.normal().min()) {
        b.append(" (below range)");
      }
    }
    boolean today =
        s.readAt()
            .atOffset(ZoneOffset.UTC)
            .toLocalDate()
            .equals(now.atOffset(ZoneOffset.UTC).toLocalDate());
    b.append(", read at ").append((today ? TIME : DATE_TIME).format(s.readAt()));
    if (s.isStale()) {
      b.append("; stale: ").append(s.staleReason());
    }
    return b.append('\n').toString();
  }

  /**
   * The user message: the value lines (stable while the sensors are), then the current time, the
   * sensors the question names, and the question.
   */
  static String user(String valueLines, List<SensorState> named, Instant now, String question) {
    StringBuilder b = new StringBuilder("Sensor values:\n");
    b.append(valueLines.isEmpty() ? "(no sensor readings)\n" : valueLines);
    b.append("\nNow: ").append(DATE_TIME.format(now)).append(" UTC\n");
    if (!named.isEmpty()) {
      b.append("The question is about: ");
      for (int i = 0; i < named.size(); i++) {
        b.append(i == 0 ? "" : ", ").append(named.get(i).displayName());
      }
      b.append(".\n");
    }
    return b.append("Question: ").append(question.strip()).toString();
  }

  static List<ChatMessage> messages(String system, String user) {
    return List.of(ChatMessage.system(system), ChatMessage.user(user));
  }
}
