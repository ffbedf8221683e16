package io.edgeslm.signing;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which nodes a release is for. An empty set or map means "any"; every non-empty criterion must
 * match.
 *
 * @param architectures CPU architectures as the JVM's {@code os.arch} normalizes them: {@code
 *     x86_64}, {@code aarch64}
 * @param deviceClasses device classes from the node's inventory (e.g. {@code gateway-m})
 * @param minRamMb RAM the node must have, in MiB (0 = no minimum)
 * @param labels labels the node must carry with exactly these values
 */
public record TargetSelector(
    Set<String> architectures,
    Set<String> deviceClasses,
    long minRamMb,
    Map<String, String> labels) {

  public static final TargetSelector ANY = new TargetSelector(Set.of(), Set.of(), 0, Map.of());

  public TargetSelector {
    architectures = Set.copyOf(new TreeSet<>(architectures));
    deviceClasses = Set.copyOf(new TreeSet<>(deviceClasses));
    labels = Map.copyOf(new TreeMap<>(labels));
    if (minRamMb < 0) {
      throw new IllegalArgumentException("minRamMb must be 0 or more, got " + minRamMb);
    }
    for (String s : architectures) {
      ReleaseMetadata.requireToken("target.architectures", s);
    }
    for (String s : deviceClasses) {
      ReleaseMetadata.requireToken("target.deviceClasses", s);
    }
    labels.forEach(
        (k, v) -> {
          ReleaseMetadata.requireToken("target.labels key", k);
          ReleaseMetadata.requireToken("target.labels value", v);
        });
  }
}
