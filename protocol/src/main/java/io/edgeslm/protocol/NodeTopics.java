package io.edgeslm.protocol;

/**
 * The topic names of one node, {@code edge/v1/{site}/{node}/…}. Obtain with {@link
 * Topics#node(String, String)}, which validates both ids.
 *
 * @param site the site id
 * @param node the node id (its MQTT identity)
 */
public record NodeTopics(String site, String node) {

  public NodeTopics {
    Topics.requireId("site", site);
    Topics.requireId("node", node);
  }

  /** The full topic name of {@code channel} for this node. */
  public String topic(Channel channel) {
    return prefix() + channel.suffix();
  }

  /** {@code edge/v1/{site}/{node}/}, with the trailing slash. */
  public String prefix() {
    return Topics.ROOT + "/" + site + "/" + node + "/";
  }

  /** A filter matching every channel of this node: {@code edge/v1/{site}/{node}/#}. */
  public String allFilter() {
    return prefix() + "#";
  }

  public String ask() {
    return topic(Channel.ASK);
  }

  public String report() {
    return topic(Channel.REPORT);
  }

  public String status() {
    return topic(Channel.STATUS);
  }

  public String birth() {
    return topic(Channel.BIRTH);
  }

  public String health() {
    return topic(Channel.HEALTH);
  }

  public String journal() {
    return topic(Channel.JOURNAL);
  }

  public String journalAck() {
    return topic(Channel.JOURNAL_ACK);
  }

  public String updateAssignment() {
    return topic(Channel.UPDATE_ASSIGNMENT);
  }

  public String updateRequest() {
    return topic(Channel.UPDATE_REQUEST);
  }

  public String updateChunk() {
    return topic(Channel.UPDATE_CHUNK);
  }

  public String updateProgress() {
    return topic(Channel.UPDATE_PROGRESS);
  }

  public String updateResult() {
    return topic(Channel.UPDATE_RESULT);
  }

  public String updateCommand() {
    return topic(Channel.UPDATE_COMMAND);
  }
}
