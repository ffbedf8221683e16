package io.edgeslm.agent.internal.config;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.internal.sensor.sparkplug.SparkplugIngest;
import io.edgeslm.agent.internal.sensor.uns.UnsRoute;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The checked settings of plant-data ingest beyond plain sensor topics: Sparkplug B groups and
 * Unified Namespace patterns. Checked at start like every other key: a bad value stops the agent
 * with exit code 78 and a message naming key, value and rule.
 *
 * @param maxSensors bound on configured plus discovered sensors
 * @param sparkplug the Sparkplug B settings, when a group is configured
 * @param unsRoutes the UNS patterns (may be empty)
 * @param unsMaxPayloadBytes the UNS payload bound
 */
public record PlantIngestConfig(
    int maxSensors,
    Optional<SparkplugIngest.Settings> sparkplug,
    List<UnsRoute> unsRoutes,
    int unsMaxPayloadBytes) {

  /** A Sparkplug Group ID: a topic level without wildcards (Sparkplug 3.0, section 4.1.1.2). */
  private static final Pattern GROUP = Pattern.compile("[^/+#\\s$][^/+#\\s]{0,63}");

  private static final int MAX_PATTERNS = 64;

  public PlantIngestConfig {
    unsRoutes = List.copyOf(unsRoutes);
  }

  /**
   * Checks the {@code sparkplug.*}, {@code uns.*} and {@code ingest.*} keys.
   *
   * @param configuredSensors how many plain sensors are configured (they count against the bound)
   * @throws AgentConfigException for the first value that breaks a rule
   */
  public static PlantIngestConfig validate(AgentConfig config, int configuredSensors)
      throws AgentConfigException {
    AgentConfig.Ingest ingest = config.ingest();
    range("ingest.max-sensors", ingest.maxSensors(), Math.max(1, configuredSensors), 1024);
    range(
        "ingest.window",
        ingest.window(),
        2,
        io.edgeslm.agent.internal.tasks.SensorWindow.MAX_SAMPLES);

    AgentConfig.Sparkplug sp = config.sparkplug();
    List<String> groups =
        sp.groups().orElse(List.of()).stream().map(String::trim).filter(g -> !g.isEmpty()).toList();
    Optional<SparkplugIngest.Settings> sparkplug = Optional.empty();
    if (!groups.isEmpty()) {
      for (String g : groups) {
        if (!GROUP.matcher(g).matches()) {
          throw ConfigValidator.invalid(
              "sparkplug.groups",
              g,
              "Sparkplug Group IDs: 1-64 characters each, no '/', '+', '#', spaces or leading '$'"
                  + " (comma-separated)");
        }
      }
      range("sparkplug.max-payload-bytes", sp.maxPayloadBytes(), 64, 16 << 20);
      Duration ri = sp.rebirthInterval();
      if (ri.compareTo(Duration.ofSeconds(1)) < 0 || ri.compareTo(Duration.ofHours(24)) > 0) {
        throw ConfigValidator.invalid(
            "sparkplug.rebirth-interval", ri.toString(), "a duration between PT1S and PT24H");
      }
      sparkplug =
          Optional.of(
              new SparkplugIngest.Settings(
                  groups, sp.maxPayloadBytes(), ri, sp.rebirthRequests(), ingest.window()));
    }

    AgentConfig.Uns uns = config.uns();
    range("uns.max-payload-bytes", uns.maxPayloadBytes(), 16, 1 << 20);
    if (uns.patterns().size() > MAX_PATTERNS) {
      throw ConfigValidator.invalid(
          "uns.patterns",
          uns.patterns().size() + " patterns",
          "at most " + MAX_PATTERNS + " patterns");
    }
    List<UnsRoute> routes = new ArrayList<>();
    for (Map.Entry<String, AgentConfig.UnsPattern> e : new TreeMap<>(uns.patterns()).entrySet()) {
      String key = "uns.patterns.\"" + e.getKey() + "\"";
      AgentConfig.UnsPattern p = e.getValue();
      if (p.topic().isEmpty() || p.topic().length() > 1024) {
        throw ConfigValidator.invalid(
            key + ".topic", p.topic(), "a topic pattern of 1-1024 characters");
      }
      boolean hasMin = p.normalMin().isPresent();
      if (hasMin != p.normalMax().isPresent()) {
        throw ConfigValidator.invalid(
            key + (hasMin ? ".normal-max" : ".normal-min"),
            "(none)",
            "normal-min and normal-max set together, or neither");
      }
      double min = p.normalMin().orElse(Double.NaN);
      double max = p.normalMax().orElse(Double.NaN);
      if (hasMin && !(Double.isFinite(min) && Double.isFinite(max) && min < max)) {
        throw ConfigValidator.invalid(
            key + ".normal-min",
            min + ".." + max,
            "normal-min must be finite and below normal-max");
      }
      range(
          key + ".window", p.window(), 2, io.edgeslm.agent.internal.tasks.SensorWindow.MAX_SAMPLES);
      UnsRoute route =
          new UnsRoute(
              e.getKey(),
              p.topic(),
              p.sensorId(),
              p.alias().orElse(null),
              p.unit().orElse(null),
              min,
              max,
              p.valuePointer().orElse(null),
              p.window());
      Optional<UnsRoute.Problem> problem = route.problem();
      if (problem.isPresent()) {
        String value =
            switch (problem.get().field()) {
              case "sensor-id" -> p.sensorId();
              case "alias" -> p.alias().orElse("");
              case "unit" -> p.unit().orElse("");
              case "value-pointer" -> p.valuePointer().orElse("");
              default -> p.topic();
            };
        throw ConfigValidator.invalid(
            key + "." + problem.get().field(), value, problem.get().rule());
      }
      routes.add(route);
    }
    return new PlantIngestConfig(ingest.maxSensors(), sparkplug, routes, uns.maxPayloadBytes());
  }

  private static void range(String key, long value, long min, long max)
      throws AgentConfigException {
    if (value < min || value > max) {
      throw ConfigValidator.invalid(key, Long.toString(value), "between " + min + " and " + max);
    }
  }
}
