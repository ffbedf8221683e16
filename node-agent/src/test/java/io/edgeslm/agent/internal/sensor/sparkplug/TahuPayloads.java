package io.edgeslm.agent.internal.sensor.sparkplug;

import java.util.Date;
import java.util.List;
import org.eclipse.tahu.message.SparkplugBPayloadEncoder;
import org.eclipse.tahu.message.model.Metric;
import org.eclipse.tahu.message.model.MetricDataType;
import org.eclipse.tahu.message.model.PropertyDataType;
import org.eclipse.tahu.message.model.PropertySet;
import org.eclipse.tahu.message.model.PropertyValue;
import org.eclipse.tahu.message.model.SparkplugBPayload;

/**
 * Sparkplug B payloads built with Eclipse Tahu's own model and encoder, the way an edge node built
 * on Tahu publishes them: an independent implementation of the specification, not our decoder run
 * backwards.
 */
public final class TahuPayloads {

  private TahuPayloads() {}

  /** A birth metric with name, alias, datatype, value and engineering properties. */
  public static Metric birthMetric(
      String name,
      long alias,
      MetricDataType type,
      Object value,
      String unit,
      Double low,
      Double high)
      throws Exception {
    PropertySet.PropertySetBuilder props = new PropertySet.PropertySetBuilder();
    if (unit != null) {
      props.addProperty("engUnit", new PropertyValue<>(PropertyDataType.String, unit));
    }
    if (low != null) {
      props.addProperty("engLow", new PropertyValue<>(PropertyDataType.Double, low));
      props.addProperty("engHigh", new PropertyValue<>(PropertyDataType.Double, high));
    }
    return new Metric.MetricBuilder(name, type, value)
        .alias(alias)
        .properties(props.createPropertySet())
        .createMetric();
  }

  /** A data metric identified by alias only, as Sparkplug 3.0 recommends after a birth. */
  public static Metric aliasMetric(long alias, MetricDataType type, Object value) throws Exception {
    return new Metric.MetricBuilder(alias, type, value).createMetric();
  }

  /** A data metric by alias with its own timestamp (the time it was measured). */
  public static Metric aliasMetric(long alias, MetricDataType type, Object value, Date measured)
      throws Exception {
    return new Metric.MetricBuilder(alias, type, value).timestamp(measured).createMetric();
  }

  /** The bdSeq metric of an NBIRTH or NDEATH. */
  public static Metric bdSeq(long value) throws Exception {
    return new Metric.MetricBuilder("bdSeq", MetricDataType.Int64, value).createMetric();
  }

  /** Encodes a payload stamped now (seq null for NDEATH). */
  public static byte[] encode(Long seq, List<Metric> metrics) throws Exception {
    return encode(seq, metrics, new Date());
  }

  /** Encodes a payload with the given payload timestamp. */
  public static byte[] encode(Long seq, List<Metric> metrics, Date timestamp) throws Exception {
    SparkplugBPayload p =
        new SparkplugBPayload.SparkplugBPayloadBuilder()
            .setTimestamp(timestamp)
            .setSeq(seq)
            .addMetrics(metrics)
            .createPayload();
    return new SparkplugBPayloadEncoder().getBytes(p, false);
  }
}
