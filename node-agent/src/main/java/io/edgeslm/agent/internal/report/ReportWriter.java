package io.edgeslm.agent.internal.report;

import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.protocol.SensorReport;
import java.util.Optional;

/** Writes one sensor report from a snapshot: the model phrases it, or the rules do. */
@FunctionalInterface
public interface ReportWriter {

  /**
   * @param snapshot the sensor windows
   * @return a validated report (the protocol record checks every bound), or empty when no sensor
   *     has a reading yet
   */
  Optional<SensorReport> write(SensorSnapshot snapshot);
}
