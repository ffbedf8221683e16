package io.edgeslm.agent.internal.sensor;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The windows of all sensors, by id and by topic: the configured ones (fixed at start) and those
 * discovered at run time from Sparkplug B births and Unified Namespace topics, at most {@code
 * maxSensors} in all so that memory stays bounded whatever a plant publishes. Thread-safe.
 */
public final class SensorStore {

  /** Default bound on configured plus discovered sensors (the Q&amp;A snapshot's limit). */
  public static final int DEFAULT_MAX_SENSORS = 1024;

  private final Map<String, SensorWindow> byId = new ConcurrentHashMap<>();
  private final Map<String, SensorWindow> byTopic = new LinkedHashMap<>();
  private final List<SensorWindow> ordered = new CopyOnWriteArrayList<>();
  private final int maxSensors;

  public SensorStore(List<SensorSpec> specs) {
    this(specs, Math.max(DEFAULT_MAX_SENSORS, specs.size()));
  }

  /**
   * @param specs the configured sensors, each on its own plain topic
   * @param maxSensors bound on configured plus discovered sensors, at least {@code specs.size()}
   */
  public SensorStore(List<SensorSpec> specs, int maxSensors) {
    if (maxSensors < specs.size()) {
      throw new IllegalArgumentException(
          "maxSensors " + maxSensors + " is below the " + specs.size() + " configured sensors");
    }
    this.maxSensors = maxSensors;
    for (SensorSpec spec : specs) {
      SensorWindow w = new SensorWindow(spec);
      if (byId.putIfAbsent(spec.id(), w) != null) {
        throw new IllegalArgumentException("duplicate sensor id " + spec.id());
      }
      if (byTopic.putIfAbsent(spec.topic(), w) != null) {
        throw new IllegalArgumentException(
            "two sensors on one topic: " + spec.topic() + " (give each sensor its own topic)");
      }
      ordered.add(w);
    }
  }

  /** Every window, configured ones first, then discovered ones in order of discovery. */
  public Collection<SensorWindow> windows() {
    return ordered;
  }

  public Optional<SensorWindow> byId(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** A configured sensor by its plain topic. */
  public Optional<SensorWindow> byTopic(String topic) {
    return Optional.ofNullable(byTopic.get(topic));
  }

  /**
   * The window of a discovered sensor, created on first sight and redefined when {@code spec}
   * differs (a new birth with other units or ranges).
   *
   * @return the window, or empty when the store is full (the caller counts and logs it) or the id
   *     belongs to a configured sensor
   */
  public synchronized Optional<SensorWindow> define(SensorSpec spec) {
    SensorWindow w = byId.get(spec.id());
    if (w != null) {
      if (byTopic.containsValue(w)) {
        return Optional.empty(); // configured sensors keep their configuration
      }
      if (!w.spec().equals(spec)) {
        w.redefine(spec);
      }
      return Optional.of(w);
    }
    if (ordered.size() >= maxSensors) {
      return Optional.empty();
    }
    w = new SensorWindow(spec);
    byId.put(spec.id(), w);
    ordered.add(w);
    return Optional.of(w);
  }

  /** How many sensors are held, configured and discovered. */
  public int size() {
    return ordered.size();
  }

  /** The ids of every held sensor, for tests and logs. */
  public List<String> ids() {
    List<String> out = new ArrayList<>();
    for (SensorWindow w : ordered) {
      out.add(w.spec().id());
    }
    return out;
  }
}
