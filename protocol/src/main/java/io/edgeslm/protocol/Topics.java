package io.edgeslm.protocol;

import io.edgeslm.protocol.internal.check.Checks;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Builds and parses EdgeSLM topic names: {@code edge/v1/{site}/{node}/{channel}}.
 *
 * <p>Site and node ids are 1 to {@value #MAX_ID_CHARS} characters of {@code A-Z a-z 0-9 _ . -},
 * starting with a letter or digit. That excludes the MQTT wildcards {@code +} and {@code #}, the
 * level separator {@code /}, the broker prefix {@code $} and spaces, so an id is always exactly one
 * topic level and can be substituted whole into Mosquitto ACL patterns ({@code %u}, {@code %c}).
 */
public final class Topics {

  /** The first two levels of every EdgeSLM topic. */
  public static final String ROOT = "edge/v1";

  /** Longest site or node id. */
  public static final int MAX_ID_CHARS = 64;

  /** Default shared-subscription group of fleet-controller replicas. */
  public static final String DEFAULT_SHARE_GROUP = "fleet";

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

  private Topics() {}

  /**
   * The topics of one node.
   *
   * @throws IllegalArgumentException if {@code site} or {@code node} is not a valid id
   */
  public static NodeTopics node(String site, String node) {
    return new NodeTopics(site, node);
  }

  /** Whether {@code id} is a valid site or node id. */
  public static boolean isValidId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  static String requireId(String what, String id) {
    if (!isValidId(id)) {
      throw new IllegalArgumentException(idMessage(what, id));
    }
    return id;
  }

  private static String idMessage(String what, String id) {
    return what
        + " id must be 1 to "
        + MAX_ID_CHARS
        + " characters of A-Z a-z 0-9 _ . - starting with a letter or digit (no '/', '+', '#',"
        + " '$' or spaces): got "
        + Checks.quote(id)
        + ". Configure a "
        + what
        + " id such as 'plant-7' or 'gw-0042'.";
  }

  /**
   * A filter for one channel of every node: {@code edge/v1/+/+/{suffix}}.
   *
   * @param channel the channel
   */
  public static String filter(Channel channel) {
    return ROOT + "/+/+/" + channel.suffix();
  }

  /** A filter for one channel of every node of one site: {@code edge/v1/{site}/+/{suffix}}. */
  public static String siteFilter(String site, Channel channel) {
    return ROOT + "/" + requireId("site", site) + "/+/" + channel.suffix();
  }

  /**
   * A shared subscription over every node's {@code channel}: {@code
   * $share/{group}/edge/v1/+/+/{suffix}}, so that controller replicas in the same group each
   * receive a share of the messages (MQTT 5 section 4.8.2).
   *
   * @param group share name, same rules as an id
   */
  public static String sharedFilter(String group, Channel channel) {
    return "$share/" + requireId("share group", group) + "/" + filter(channel);
  }

  /** {@link #sharedFilter(String, Channel)} with {@link #DEFAULT_SHARE_GROUP}. */
  public static String sharedFilter(Channel channel) {
    return sharedFilter(DEFAULT_SHARE_GROUP, channel);
  }

  /**
   * Parses a received topic name.
   *
   * @return site, node and channel
   * @throws InvalidTopicException if the topic is not {@code edge/v1/{site}/{node}/{channel}} with
   *     valid ids and a known channel; the message says which part is wrong
   */
  public static ParsedTopic parse(String topic) throws InvalidTopicException {
    if (topic == null || !topic.startsWith(ROOT + "/")) {
      throw new InvalidTopicException(
          "Topic must start with '"
              + ROOT
              + "/': got "
              + Checks.quote(topic)
              + ". Publish on edge/v1/{site}/{node}/{channel}.");
    }
    String rest = topic.substring(ROOT.length() + 1);
    int siteEnd = rest.indexOf('/');
    int nodeEnd = siteEnd < 0 ? -1 : rest.indexOf('/', siteEnd + 1);
    if (siteEnd < 0 || nodeEnd < 0) {
      throw new InvalidTopicException(
          "Topic must have the levels edge/v1/{site}/{node}/{channel}: got "
              + Checks.quote(topic)
              + ". Add the missing levels.");
    }
    String site = rest.substring(0, siteEnd);
    String node = rest.substring(siteEnd + 1, nodeEnd);
    String suffix = rest.substring(nodeEnd + 1);
    if (!isValidId(site)) {
      throw new InvalidTopicException(
          "In topic " + Checks.quote(topic) + ": " + idMessage("site", site));
    }
    if (!isValidId(node)) {
      throw new InvalidTopicException(
          "In topic " + Checks.quote(topic) + ": " + idMessage("node", node));
    }
    Optional<Channel> channel = channelOf(suffix);
    if (channel.isEmpty()) {
      throw new InvalidTopicException(
          "Unknown channel "
              + Checks.quote(suffix)
              + " in topic "
              + Checks.quote(topic)
              + ". Known channels: "
              + knownSuffixes()
              + ".");
    }
    return new ParsedTopic(site, node, channel.get());
  }

  /** The channel whose suffix is {@code suffix}, if any. */
  public static Optional<Channel> channelOf(String suffix) {
    for (Channel c : Channel.values()) {
      if (c.suffix().equals(suffix)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  private static String knownSuffixes() {
    StringBuilder out = new StringBuilder();
    for (Channel c : Channel.values()) {
      out.append(out.isEmpty() ? "" : ", ").append(c.suffix());
    }
    return out.toString();
  }

  /**
   * A parsed topic name.
   *
   * @param site the site id
   * @param node the node id
   * @param channel the channel
   */
  public record ParsedTopic(String site, String node, Channel channel) {

    public ParsedTopic {
      requireId("site", site);
      requireId("node", node);
      Checks.required("channel", channel);
    }

    /** The topics of the same node. */
    public NodeTopics nodeTopics() {
      return new NodeTopics(site, node);
    }
  }
}
