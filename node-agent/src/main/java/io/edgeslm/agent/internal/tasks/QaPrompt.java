package io.edgeslm.agent.internal.tasks;

import io.edgeslm.inference.ChatMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/**
 * The Q&amp;A prompt, laid out for the engine's prompt cache: everything that stays the same from
 * one question to the next (instructions, site notes, the catalogue of the node's sensors with
 * their units and normal ranges) comes first, in the system message, in a fixed order; what varies
 * (live values and their age, the question) comes last, in the user message. An engine that keeps
 * the KV cache of a slot (llama-server with {@code cache_prompt}, the request pinned to one slot)
 * then evaluates only the user message of the next question. Pure.
 */
final class QaPrompt {
  static final String INSTRUCTIONS =
      "You assist operators of an industrial plant. Answer in at most three sentences, using only"
          + " the sensor readings and site notes given. Quote each value you use with its unit. If"
          + " the readings do not answer the question, say so.";

  private QaPrompt() {}

  /**
   * The stable part: instructions, site notes, and one catalogue line per sensor, sorted by sensor
   * id so that the order does not depend on the question or on arrival order.
   */
  static String system(String siteNotes, List<SensorState> catalogue) {
    StringBuilder b = new StringBuilder(INSTRUCTIONS);
    if (siteNotes != null && !siteNotes.isBlank()) {
      b.append("\n\nSite notes: ").append(siteNotes.strip());
    }
    if (!catalogue.isEmpty()) {
      b.append("\n\nSensors on this node:\n");
      catalogue.stream()
          .sorted(Comparator.comparing(SensorState::sensor))
          .forEach(s -> b.append(catalogueLine(s)));
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

  /** "- Press 3 oil temperature: 71.2 °C (above range), read 2 s ago". */
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
    b.append(", read ").append(Numbers.age(Duration.between(s.readAt(), now))).append(" ago\n");
    return b.toString();
  }

  /** The varying part: the live values given (already within budget) and the question. */
  static String user(String valueLines, String question) {
    return "Live values:\n"
        + (valueLines.isEmpty() ? "(no sensor readings)\n" : valueLines)
        + "\nQuestion: "
        + question.strip();
  }

  static List<ChatMessage> messages(String system, String user) {
    return List.of(ChatMessage.system(system), ChatMessage.user(user));
  }
}
