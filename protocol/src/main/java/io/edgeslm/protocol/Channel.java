package io.edgeslm.protocol;

/**
 * The per-node MQTT channels below {@code edge/v1/{site}/{node}/}. {@link #suffix()} is the part
 * after the node level; {@link Topics} builds and parses full topic names.
 */
public enum Channel {
  /** Operator questions to the node ({@link Question}). */
  ASK("ask", Direction.TO_NODE),
  /** Sensor reports ({@link SensorReport}). */
  REPORT("report", Direction.FROM_NODE),
  /** Retained online/offline presence, also the node's delayed last will ({@link NodeStatus}). */
  STATUS("status", Direction.FROM_NODE),
  /** Retained facts about the node, published after every connect ({@link NodeBirth}). */
  BIRTH("birth", Direction.FROM_NODE),
  /** Periodic health ({@link NodeHealth}). */
  HEALTH("health", Direction.FROM_NODE),
  /** The node's update journal, replayed after reconnect ({@link JournalBatch}). */
  JOURNAL("journal", Direction.FROM_NODE),
  /** The controller's acknowledgement of journal entries ({@link JournalAck}). */
  JOURNAL_ACK("journal/ack", Direction.TO_NODE),
  /** Retained update assignment for the node ({@link UpdateAssignment}). */
  UPDATE_ASSIGNMENT("update/assignment", Direction.TO_NODE),
  /** Chunk requests from the node to the controller ({@link ChunkRequest}). */
  UPDATE_REQUEST("update/request", Direction.FROM_NODE),
  /** Chunks and chunk errors from the controller ({@link ChunkHeader}, {@link ChunkReply}). */
  UPDATE_CHUNK("update/chunk", Direction.TO_NODE),
  /** Download and install progress ({@link UpdateProgress}). */
  UPDATE_PROGRESS("update/progress", Direction.FROM_NODE),
  /** Outcome of an assignment or command ({@link UpdateResult}). */
  UPDATE_RESULT("update/result", Direction.FROM_NODE),
  /** Operator or controller commands such as rollback ({@link UpdateCommand}). */
  UPDATE_COMMAND("update/command", Direction.TO_NODE);

  /** Who publishes on a channel. */
  public enum Direction {
    /** The node publishes; the controller (or an operator tool) subscribes. */
    FROM_NODE,
    /** The controller or an operator publishes; the node subscribes. */
    TO_NODE
  }

  private final String suffix;
  private final Direction direction;

  Channel(String suffix, Direction direction) {
    this.suffix = suffix;
    this.direction = direction;
  }

  /** The topic levels after {@code edge/v1/{site}/{node}/}, e.g. {@code update/request}. */
  public String suffix() {
    return suffix;
  }

  /** Who publishes on this channel. */
  public Direction direction() {
    return direction;
  }
}
