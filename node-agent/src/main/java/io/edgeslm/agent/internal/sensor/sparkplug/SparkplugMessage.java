package io.edgeslm.agent.internal.sensor.sparkplug;

import java.util.List;

/**
 * A decoded Sparkplug B payload, reduced to what the agent reads: the fields of the {@code Payload}
 * and {@code Metric} messages of Eclipse Sparkplug 3.0, section 6.4 ("Payload Definition").
 *
 * @param timestampMs the payload's timestamp (ms since the epoch), or null
 * @param seq the sequence number 0..255, or null when absent (NDEATH carries none)
 * @param metrics the metrics, in payload order
 */
public record SparkplugMessage(Long timestampMs, Long seq, List<Metric> metrics) {

  public SparkplugMessage {
    metrics = List.copyOf(metrics);
  }

  /** How a metric's value was encoded on the wire (the protobuf {@code oneof value}). */
  public enum Kind {
    INT,
    LONG,
    FLOAT,
    DOUBLE,
    BOOLEAN,
    STRING,
    OTHER,
    NONE
  }

  /**
   * One metric.
   *
   * @param name the metric name, or null (data messages may send only the alias)
   * @param alias the alias, or null
   * @param datatype the Sparkplug datatype number (section 6.4.16), 0 when absent
   * @param timestampMs the metric's timestamp, or null
   * @param isNull whether the value is null (quality unknown, not a zero)
   * @param kind which value field was set
   * @param bits the raw bits of an integer or boolean value (uint32 and uint64 fields as sent)
   * @param number the value of a float or double field
   * @param unit engineering unit from the metric's properties, or null
   * @param low low end of the engineering range from the properties, or null
   * @param high high end of the engineering range from the properties, or null
   */
  public record Metric(
      String name,
      Long alias,
      int datatype,
      Long timestampMs,
      boolean isNull,
      Kind kind,
      long bits,
      double number,
      String unit,
      Double low,
      Double high) {}
}
