package io.edgeslm.fleet;

import java.util.List;

/**
 * The base-model rule for LoRA adapter rollouts. An adapter only works on the base model it was
 * trained for (llama.cpp refuses an adapter whose tensor shapes differ from the loaded base, and
 * one of the same shape but another base answers wrongly without any error), so a rollout of an
 * adapter bundle is refused while any node its selector matches serves another base. Pure: the
 * caller passes the nodes as the controller last heard from them.
 */
public final class AdapterBase {

  /** How many offending nodes the refusal names; the rest are counted. */
  static final int MAX_NAMED_NODES = 20;

  private AdapterBase() {}

  /**
   * Refuses the rollout if a node the selector matches does not serve {@code baseDigest} (or the
   * adapter itself, which it can only serve on top of that base).
   *
   * @param bundleId the adapter bundle, for the message
   * @param adapterDigest the adapter bundle's digest
   * @param baseDigest the base model digest the adapter's signed release.json names
   * @param selector the rollout's node selector
   * @param nodes the fleet
   * @throws FleetConflictException naming the nodes, what each serves and the required base
   */
  public static void requireBase(
      String bundleId,
      String adapterDigest,
      String baseDigest,
      NodeSelector selector,
      List<FleetNode> nodes)
      throws FleetConflictException {
    List<FleetNode> wrong =
        nodes.stream()
            .filter(selector::matches)
            .filter(n -> !baseDigest.equals(n.activeDigest()))
            .filter(n -> !adapterDigest.equals(n.activeDigest()))
            .sorted(java.util.Comparator.comparing(FleetNode::nodeId))
            .toList();
    if (wrong.isEmpty()) {
      return;
    }
    StringBuilder named = new StringBuilder();
    for (FleetNode n : wrong.subList(0, Math.min(MAX_NAMED_NODES, wrong.size()))) {
      if (!named.isEmpty()) {
        named.append(", ");
      }
      named
          .append(n.nodeId())
          .append(" (")
          .append(n.activeDigest() == null ? "no model" : n.activeDigest())
          .append(')');
    }
    if (wrong.size() > MAX_NAMED_NODES) {
      named.append(" and ").append(wrong.size() - MAX_NAMED_NODES).append(" more");
    }
    throw new FleetConflictException(
        "Bundle '"
            + bundleId
            + "' is a LoRA adapter for base model "
            + baseDigest
            + ", but "
            + wrong.size()
            + (wrong.size() == 1 ? " node" : " nodes")
            + " the selector matches "
            + (wrong.size() == 1 ? "serves" : "serve")
            + " another base: "
            + named
            + ". Roll the base model out to them first, or narrow the selector.");
  }
}
