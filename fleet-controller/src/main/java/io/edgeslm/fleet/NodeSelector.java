package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which nodes a rollout targets, over the facts and labels of their birth messages. Every given
 * condition must hold (AND); an empty set or map means "any".
 *
 * @param sites site ids, any of
 * @param arch CPU architectures ({@code amd64}, {@code aarch64}), any of
 * @param deviceClasses device classes, any of
 * @param minRamBytes least physical memory; 0 for no bound
 * @param labels labels the node must carry with exactly these values
 */
public record NodeSelector(
    Set<String> sites,
    Set<String> arch,
    Set<String> deviceClasses,
    long minRamBytes,
    Map<String, String> labels) {

  /** Most conditions of each kind. */
  public static final int MAX_ENTRIES = 64;

  /** Selects every node. */
  public static final NodeSelector ALL =
      new NodeSelector(Set.of(), Set.of(), Set.of(), 0, Map.of());

  public NodeSelector {
    sites = copy("sites", sites);
    arch = copy("arch", arch);
    deviceClasses = copy("deviceClasses", deviceClasses);
    Checks.range("minRamBytes", minRamBytes, 0, Long.MAX_VALUE);
    TreeMap<String, String> l = new TreeMap<>();
    if (labels != null) {
      Checks.check(
          labels.size() <= MAX_ENTRIES,
          "labels must have at most "
              + MAX_ENTRIES
              + " entries: got "
              + labels.size()
              + ". Narrow the selector with fewer labels.");
      for (Map.Entry<String, String> e : labels.entrySet()) {
        Checks.identifier("selector label key", e.getKey(), 64);
        Checks.text("selector label " + e.getKey(), e.getValue(), 128);
        l.put(e.getKey(), e.getValue());
      }
    }
    labels = java.util.Collections.unmodifiableMap(l);
  }

  private static Set<String> copy(String field, Set<String> values) {
    if (values == null) {
      return Set.of();
    }
    Checks.check(
        values.size() <= MAX_ENTRIES,
        field + " must have at most " + MAX_ENTRIES + " entries: got " + values.size() + ".");
    TreeSet<String> out = new TreeSet<>();
    for (String v : values) {
      out.add(Checks.identifier(field + " entry", v, 64));
    }
    return java.util.Collections.unmodifiableSortedSet(out);
  }

  /** Whether {@code node} satisfies every condition. */
  public boolean matches(FleetNode node) {
    if (!sites.isEmpty() && !sites.contains(node.site())) {
      return false;
    }
    if (!arch.isEmpty() && !arch.contains(node.arch())) {
      return false;
    }
    if (!deviceClasses.isEmpty() && !deviceClasses.contains(node.deviceClass())) {
      return false;
    }
    if (node.ramBytes() < minRamBytes) {
      return false;
    }
    for (Map.Entry<String, String> e : labels.entrySet()) {
      if (!e.getValue().equals(node.labels().get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
