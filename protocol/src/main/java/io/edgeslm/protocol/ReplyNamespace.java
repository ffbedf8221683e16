package io.edgeslm.protocol;

import io.edgeslm.protocol.internal.check.Checks;
import java.util.List;
import java.util.Optional;

/**
 * The topics a node may publish answers to. A question's MQTT 5 Response Topic and its {@code
 * replyTo} are chosen by whoever asks, so they are untrusted input: without this rule an asker
 * could make a node publish its answer onto the node's own control or telemetry topics (its {@code
 * update/command}, {@code status}, {@code health}, {@code report}, {@code journal}, …), which the
 * broker lets the node write.
 *
 * <p>A reply topic is permitted when it is one of:
 *
 * <ul>
 *   <li>the node's own answers tree, {@code edge/v1/{site}/{node}/answers} or below it;
 *   <li>a fleet-controller replica's reply topic, {@code fleet/v1/{replica}/reply};
 *   <li>below one of the configured operator prefixes (for example {@code operator/}).
 * </ul>
 *
 * <p>Never a wildcard, a {@code $} topic, a NUL, or longer than {@value #MAX_TOPIC_CHARS}
 * characters. The production broker ACL grants nodes the same first two (docs/security.md).
 *
 * @param node the answering node's topics
 * @param operatorPrefixes topic prefixes owned by the plant's operators, each ending in {@code /};
 *     may be empty
 */
public record ReplyNamespace(NodeTopics node, List<String> operatorPrefixes) {

  /** Longest reply topic accepted (MQTT allows 65,535 bytes; nobody needs that). */
  public static final int MAX_TOPIC_CHARS = 1024;

  /** The answers level below a node's prefix. */
  public static final String ANSWERS = "answers";

  private static final String FLEET_REPLY_PREFIX = "fleet/v1/";
  private static final String FLEET_REPLY_SUFFIX = "/reply";

  public ReplyNamespace {
    Checks.required("node", node);
    operatorPrefixes = List.copyOf(Checks.required("operatorPrefixes", operatorPrefixes));
    for (String prefix : operatorPrefixes) {
      checkPrefix(prefix);
    }
  }

  /** A node's namespace with the given operator prefixes. */
  public static ReplyNamespace of(NodeTopics node, List<String> operatorPrefixes) {
    return new ReplyNamespace(node, operatorPrefixes);
  }

  /** {@code edge/v1/{site}/{node}/answers}, the root of the node's own answers tree. */
  public String answersRoot() {
    return node.prefix() + ANSWERS;
  }

  /** Whether answers may be published to {@code topic}. */
  public boolean permits(String topic) {
    return refusal(topic).isEmpty();
  }

  /**
   * Why answers may not go to {@code topic}, or empty when they may. The message quotes at most a
   * bounded, escaped prefix of the topic, so it is safe to log.
   */
  public Optional<String> refusal(String topic) {
    if (topic == null || topic.isEmpty()) {
      return Optional.of("the reply topic is empty. " + whereToReply());
    }
    if (topic.length() > MAX_TOPIC_CHARS) {
      return Optional.of(
          "the reply topic has "
              + topic.length()
              + " characters, more than "
              + MAX_TOPIC_CHARS
              + ". "
              + whereToReply());
    }
    if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
      return Optional.of(
          "the reply topic " + Checks.quote(topic) + " contains a wildcard. " + whereToReply());
    }
    if (topic.startsWith("$")) {
      return Optional.of(
          "the reply topic "
              + Checks.quote(topic)
              + " is a broker system topic ($...). "
              + whereToReply());
    }
    if (topic.indexOf('\u0000') >= 0) {
      return Optional.of("the reply topic contains a NUL character. " + whereToReply());
    }
    if (inAnswersTree(topic) || isFleetReply(topic) || underOperatorPrefix(topic)) {
      return Optional.empty();
    }
    return Optional.of(
        "the reply topic "
            + Checks.quote(topic)
            + " is outside this node's reply namespace. "
            + whereToReply());
  }

  private boolean inAnswersTree(String topic) {
    String root = answersRoot();
    return topic.equals(root) || topic.startsWith(root + "/");
  }

  private static boolean isFleetReply(String topic) {
    if (!topic.startsWith(FLEET_REPLY_PREFIX) || !topic.endsWith(FLEET_REPLY_SUFFIX)) {
      return false;
    }
    String replica =
        topic.substring(FLEET_REPLY_PREFIX.length(), topic.length() - FLEET_REPLY_SUFFIX.length());
    return !replica.isEmpty() && replica.indexOf('/') < 0;
  }

  private boolean underOperatorPrefix(String topic) {
    for (String prefix : operatorPrefixes) {
      if (topic.length() > prefix.length() && topic.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private String whereToReply() {
    StringBuilder s =
        new StringBuilder("Reply to a topic below ")
            .append(answersRoot())
            .append("/, to fleet/v1/{replica}/reply");
    for (String prefix : operatorPrefixes) {
      s.append(", or below ").append(prefix);
    }
    return s.append(" (docs/protocol.md, reply topics).").toString();
  }

  private static void checkPrefix(String prefix) {
    Checks.check(
        prefix != null
            && prefix.length() > 1
            && prefix.length() < MAX_TOPIC_CHARS
            && prefix.endsWith("/")
            && prefix.indexOf('+') < 0
            && prefix.indexOf('#') < 0
            && prefix.indexOf('\u0000') < 0
            && !prefix.startsWith("$")
            && !prefix.startsWith(Topics.ROOT + "/")
            && !prefix.startsWith("fleet/"),
        "an operator reply prefix must be a plain topic prefix ending in '/', outside edge/v1/ and"
            + " fleet/ (which hold the nodes' and the controllers' own topics): got "
            + Checks.quote(prefix)
            + ". Use e.g. 'operator/'.");
  }
}
