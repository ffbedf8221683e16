package io.edgeslm.fleet.internal.rest;

import java.util.Map;

/**
 * Every problem type the API answers with and its HTTP status, in one table: the exception mappers
 * take a {@link io.edgeslm.fleet.FleetException}'s status from it, and the OpenAPI document lists
 * each operation's problems by it, so the two cannot disagree.
 */
public final class ProblemTypes {

  private static final Map<String, Integer> STATUS =
      Map.ofEntries(
          Map.entry("invalid-request", 400),
          Map.entry("unauthenticated", 401),
          Map.entry("forbidden", 403),
          Map.entry("not-found", 404),
          Map.entry("method-not-allowed", 405),
          Map.entry("conflict", 409),
          Map.entry("too-large", 413),
          Map.entry("unsupported-media-type", 415),
          Map.entry("bundle-rejected", 422),
          Map.entry("storage", 500),
          Map.entry("internal", 500),
          Map.entry("node-error", 502),
          Map.entry("unavailable", 503),
          Map.entry("node-offline", 503),
          Map.entry("node-busy", 503),
          Map.entry("busy", 503),
          Map.entry("mqtt-unavailable", 503),
          Map.entry("node-timeout", 504));

  private ProblemTypes() {}

  /**
   * The HTTP status of problem {@code key}.
   *
   * @throws IllegalArgumentException for a key that is not in the table
   */
  public static int status(String key) {
    Integer s = STATUS.get(key);
    if (s == null) {
      throw new IllegalArgumentException(
          "Unknown problem type '" + key + "': add it to ProblemTypes with its HTTP status.");
    }
    return s;
  }

  /** The problem type URI of {@code key}. */
  public static String uri(String key) {
    status(key);
    return Problem.TYPE_BASE + key;
  }
}
