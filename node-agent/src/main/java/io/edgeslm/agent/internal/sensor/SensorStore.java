package io.edgeslm.agent.internal.sensor;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The windows of all configured sensors, by id and by topic. Immutable layout; thread-safe. */
public final class SensorStore {

  private final Map<String, SensorWindow> byId = new LinkedHashMap<>();
  private final Map<String, SensorWindow> byTopic = new LinkedHashMap<>();

  public SensorStore(List<SensorSpec> specs) {
    for (SensorSpec spec : specs) {
      SensorWindow w = new SensorWindow(spec);
      if (byId.putIfAbsent(spec.id(), w) != null) {
        throw new IllegalArgumentException("duplicate sensor id " + spec.id());
      }
      if (byTopic.putIfAbsent(spec.topic(), w) != null) {
        throw new IllegalArgumentException(
            "two sensors on one topic: " + spec.topic() + " (give each sensor its own topic)");
      }
    }
  }

  public Collection<SensorWindow> windows() {
    return byId.values();
  }

  public Optional<SensorWindow> byId(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  public Optional<SensorWindow> byTopic(String topic) {
    return Optional.ofNullable(byTopic.get(topic));
  }
}
