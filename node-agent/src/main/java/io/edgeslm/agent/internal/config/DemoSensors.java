package io.edgeslm.agent.internal.config;

import io.edgeslm.agent.internal.sensor.SensorSpec;
import java.util.List;

/** The sensors of the built-in demo: a hydraulic press and a conveyor, as on a small line. */
public final class DemoSensors {

  private DemoSensors() {}

  /** The demo sensors, publishing under {@code demo/{node}/...}. */
  public static List<SensorSpec> specs(String nodeId) {
    String base = "demo/" + nodeId + "/";
    return List.of(
        new SensorSpec(
            "conveyor2.motor_current",
            base + "conveyor2/motor_current",
            "A",
            "Conveyor 2 motor current",
            2.0,
            12.0,
            120),
        new SensorSpec(
            "press3.hydraulic_pressure",
            base + "press3/hydraulic_pressure",
            "bar",
            "Press 3 hydraulic pressure",
            150.0,
            210.0,
            120),
        new SensorSpec(
            "press3.oil_temp",
            base + "press3/oil_temp",
            "°C",
            "Press 3 oil temperature",
            40.0,
            80.0,
            120));
  }
}
