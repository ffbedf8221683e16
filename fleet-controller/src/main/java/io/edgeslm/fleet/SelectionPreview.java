package io.edgeslm.fleet;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which nodes a plan would reach if it were created now, for a person to check before creating it.
 * It applies the rule the {@link RolloutEngine} applies when a wave starts ({@link #wouldUpdate}):
 * the selector must match and the node must not already serve the bundle's model; only online nodes
 * are assigned, offline ones when they come back. The wave sizes follow {@link Wave#goal} over the
 * current fleet; the real rollout recounts when each wave starts, so nodes that join or leave
 * meanwhile change them.
 *
 * @param matched nodes the selector matches
 * @param toUpdate matched nodes that do not serve the model yet (online or not)
 * @param alreadyServing matched nodes that already serve the model; the rollout leaves them alone
 * @param offline of {@code toUpdate}, the nodes offline now
 * @param waves nodes each wave would assign now, in wave order
 * @param nodes the matched nodes by node id, at most the limit given to {@link #of}
 * @param truncated whether more nodes matched than {@code nodes} lists
 */
public record SelectionPreview(
    int matched,
    int toUpdate,
    int alreadyServing,
    int offline,
    List<Integer> waves,
    List<Candidate> nodes,
    boolean truncated) {

  /** What the rollout would do with one matched node. */
  public enum Fate {
    /** Online and not on the model: assigned by one of the waves. */
    UPDATE,
    /** Not on the model but offline: assigned by the wave running when it comes back online. */
    OFFLINE,
    /** Already serves the model: left alone. */
    SERVING
  }

  /** One matched node. */
  public record Candidate(FleetNode node, Fate fate) {}

  public SelectionPreview {
    waves = List.copyOf(waves);
    nodes = List.copyOf(nodes);
  }

  /**
   * Whether a rollout of the model with {@code digest} under {@code selector} would update {@code
   * node}: the rule the engine applies to nodes not yet in the rollout.
   */
  public static boolean wouldUpdate(NodeSelector selector, String digest, FleetNode node) {
    return !digest.equals(node.activeDigest()) && selector.matches(node);
  }

  /**
   * The preview of {@code plan} over {@code fleet}.
   *
   * @param limit most nodes to list (counts cover all of them)
   */
  public static SelectionPreview of(RolloutPlan plan, List<FleetNode> fleet, int limit) {
    String digest = plan.model().digest();
    List<FleetNode> matched =
        fleet.stream()
            .filter(plan.selector()::matches)
            .sorted(Comparator.comparing(FleetNode::nodeId))
            .toList();
    List<Candidate> listed = new ArrayList<>();
    int toUpdate = 0;
    int online = 0;
    for (FleetNode n : matched) {
      Fate fate;
      if (wouldUpdate(plan.selector(), digest, n)) {
        toUpdate++;
        fate = n.online() ? Fate.UPDATE : Fate.OFFLINE;
        if (n.online()) {
          online++;
        }
      } else {
        fate = Fate.SERVING;
      }
      if (listed.size() < limit) {
        listed.add(new Candidate(n, fate));
      }
    }
    return new SelectionPreview(
        matched.size(),
        toUpdate,
        matched.size() - toUpdate,
        toUpdate - online,
        waveSizes(plan.waves(), toUpdate, online),
        listed,
        matched.size() > listed.size());
  }

  /**
   * How many nodes each wave assigns when {@code population} nodes are to be updated and {@code
   * online} of them are online, as the engine starts the waves one after the other.
   */
  static List<Integer> waveSizes(List<Wave> waves, int population, int online) {
    List<Integer> sizes = new ArrayList<>();
    long assigned = 0;
    for (Wave w : waves) {
      long goal = w.goal(assigned, population);
      long n = Math.max(0, Math.min(goal - assigned, online - assigned));
      sizes.add((int) n);
      assigned += n;
    }
    return sizes;
  }
}
