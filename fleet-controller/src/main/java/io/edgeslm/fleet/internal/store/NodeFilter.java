package io.edgeslm.fleet.internal.store;

/**
 * Filters of the node list; null fields do not filter.
 *
 * @param status {@code online}, {@code offline} or {@code unknown}
 * @param site site id
 * @param model model name
 * @param label {@code key=value}
 * @param search node-id prefix
 */
public record NodeFilter(String status, String site, String model, String label, String search) {

  public static final NodeFilter NONE = new NodeFilter(null, null, null, null, null);
}
