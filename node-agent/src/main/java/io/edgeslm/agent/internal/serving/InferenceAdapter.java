package io.edgeslm.agent.internal.serving;

import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.agent.internal.sensor.SensorSpec;
import io.edgeslm.agent.internal.sensor.SensorWindow;
import io.edgeslm.agent.internal.tasks.NormalRange;
import io.edgeslm.agent.internal.tasks.SensorSample;
import io.edgeslm.agent.internal.tasks.SensorState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Translates the agent's sensor windows into the inference tasks' input records. */
final class InferenceAdapter {

  private InferenceAdapter() {}

  /** The latest value of every sensor that has one, for Q&A. */
  static List<SensorState> states(SensorSnapshot snapshot) {
    List<SensorState> out = new ArrayList<>();
    for (SensorSnapshot.Sensor s : snapshot.sensors()) {
      if (s.samples().isEmpty()) {
        continue;
      }
      SensorWindow.Sample last = s.samples().getLast();
      SensorSpec spec = s.spec();
      List<String> aliases = spec.alias().equals(spec.id()) ? List.of() : List.of(spec.alias());
      out.add(
          new SensorState(
              spec.id(),
              aliases,
              last.value(),
              spec.unit().isEmpty() ? null : spec.unit(),
              spec.hasRange() ? new NormalRange(spec.normalMin(), spec.normalMax()) : null,
              last.at(),
              s.staleReason().map(InferenceAdapter::boundedReason).orElse(null)));
    }
    return out;
  }

  /**
   * {@code own} followed by the values an asking node sent with an escalated question ({@code
   * Question.context}), except those whose id the node has itself (its own value wins). They are
   * used for this one answer and never stored.
   */
  static List<SensorState> withContext(
      List<SensorState> own, List<io.edgeslm.protocol.SensorCitation> context, Instant now) {
    if (context.isEmpty()) {
      return own;
    }
    java.util.Set<String> ids = new java.util.HashSet<>();
    own.forEach(s -> ids.add(s.sensor()));
    List<SensorState> out = new ArrayList<>(own);
    for (io.edgeslm.protocol.SensorCitation c : context) {
      if (out.size() >= 1024 || !ids.add(c.sensor())) {
        continue;
      }
      out.add(
          new SensorState(
              c.sensor(),
              List.of(),
              c.value(),
              c.unit(),
              null,
              now.minusMillis(Math.min(c.ageMs(), 365L * 24 * 3600 * 1000)),
              Boolean.TRUE.equals(c.stale()) ? "stale at the asking node" : null));
    }
    return out;
  }

  private static String boundedReason(String why) {
    return why.length() <= 200 ? why : why.substring(0, 197) + "...";
  }

  /**
   * The window of every sensor that has samples and a normal range, for reports (the report rules
   * judge values against the range; a discovered metric without one has nothing to judge by).
   */
  static List<io.edgeslm.agent.internal.tasks.SensorWindow> windows(SensorSnapshot snapshot) {
    List<io.edgeslm.agent.internal.tasks.SensorWindow> out = new ArrayList<>();
    for (SensorSnapshot.Sensor s : snapshot.sensors()) {
      if (s.samples().isEmpty() || !s.spec().hasRange()) {
        continue;
      }
      SensorSpec spec = s.spec();
      List<SensorSample> samples =
          s.samples().stream().map(x -> new SensorSample(x.at(), x.value())).toList();
      out.add(
          new io.edgeslm.agent.internal.tasks.SensorWindow(
              spec.id(),
              spec.unit().isEmpty() ? null : spec.unit(),
              new NormalRange(spec.normalMin(), spec.normalMax()),
              null,
              samples));
    }
    return out;
  }
}
