package io.edgeslm.fleet;

/**
 * Something the request needs is not available now, though the request itself is fine: the node is
 * offline, busy, failed to answer or did not answer in time, or the controller is at a limit. The
 * caller may retry, after {@link #retryAfterMs()} when it is set.
 */
public final class FleetUnavailableException extends FleetException {

  /** Problem keys of this exception. */
  public static final String NODE_OFFLINE = "node-offline";

  public static final String NODE_BUSY = "node-busy";
  public static final String NODE_TIMEOUT = "node-timeout";
  public static final String NODE_ERROR = "node-error";
  public static final String BUSY = "busy";
  public static final String MQTT_UNAVAILABLE = "mqtt-unavailable";

  private final String key;
  private final Long retryAfterMs;
  private final String code;

  /**
   * @param key one of the constants of this class
   * @param retryAfterMs when to retry, or null
   * @param code the node's machine-readable error code (wire name), or null
   */
  public FleetUnavailableException(String key, String message, Long retryAfterMs, String code) {
    super(message, null);
    this.key = key;
    this.retryAfterMs = retryAfterMs;
    this.code = code;
  }

  @Override
  public String problemKey() {
    return key;
  }

  /** When to retry, ms, or null. */
  public Long retryAfterMs() {
    return retryAfterMs;
  }

  /** The node's error code, or null. */
  public String code() {
    return code;
  }

  /** The HTTP status of this problem: 504 for a timeout, 502 for a node error, else 503. */
  public int httpStatus() {
    return switch (key) {
      case NODE_TIMEOUT -> 504;
      case NODE_ERROR -> 502;
      default -> 503;
    };
  }
}
