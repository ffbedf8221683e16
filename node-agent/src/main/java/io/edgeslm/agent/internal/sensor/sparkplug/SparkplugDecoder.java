package io.edgeslm.agent.internal.sensor.sparkplug;

import com.google.protobuf.InvalidProtocolBufferException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.tahu.protobuf.SparkplugBProto;
import org.eclipse.tahu.protobuf.SparkplugBProto.Payload;

/**
 * Decodes Sparkplug B payloads with the Eclipse Tahu project's generated protobuf classes and
 * encodes the one command the agent sends (a rebirth request). Pure: no I/O, no clock.
 */
public final class SparkplugDecoder {

  /** The metric an edge node reads as a rebirth request (Sparkplug 3.0, section 6.4.18 NCMD). */
  public static final String REBIRTH_METRIC = "Node Control/Rebirth";

  /**
   * Property keys read as engineering unit and range. Sparkplug 3.0 defines only the property set
   * itself, not these keys; these are the names Ignition and Tahu-based edge nodes use for tag
   * properties, plus plain spellings.
   */
  static final List<String> UNIT_KEYS = List.of("engUnit", "engUnits", "unit", "units");

  static final List<String> LOW_KEYS = List.of("engLow", "low", "min");
  static final List<String> HIGH_KEYS = List.of("engHigh", "high", "max");

  private SparkplugDecoder() {}

  /**
   * Decodes one payload.
   *
   * @param bytes the MQTT payload; the caller has already bounded its size
   * @throws SparkplugFormatException when the bytes are not a Sparkplug B payload
   */
  public static SparkplugMessage decode(byte[] bytes) throws SparkplugFormatException {
    Payload p;
    try {
      p = Payload.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new SparkplugFormatException("not a Sparkplug B protobuf payload: " + e.getMessage());
    }
    List<SparkplugMessage.Metric> metrics = new ArrayList<>(p.getMetricsCount());
    for (Payload.Metric m : p.getMetricsList()) {
      metrics.add(metric(m));
    }
    return new SparkplugMessage(
        p.hasTimestamp() ? p.getTimestamp() : null, p.hasSeq() ? p.getSeq() : null, metrics);
  }

  private static SparkplugMessage.Metric metric(Payload.Metric m) {
    SparkplugMessage.Kind kind;
    long bits = 0;
    double number = 0;
    switch (m.getValueCase()) {
      case INT_VALUE -> {
        kind = SparkplugMessage.Kind.INT;
        bits = Integer.toUnsignedLong(m.getIntValue());
      }
      case LONG_VALUE -> {
        kind = SparkplugMessage.Kind.LONG;
        bits = m.getLongValue();
      }
      case FLOAT_VALUE -> {
        kind = SparkplugMessage.Kind.FLOAT;
        number = m.getFloatValue();
      }
      case DOUBLE_VALUE -> {
        kind = SparkplugMessage.Kind.DOUBLE;
        number = m.getDoubleValue();
      }
      case BOOLEAN_VALUE -> {
        kind = SparkplugMessage.Kind.BOOLEAN;
        bits = m.getBooleanValue() ? 1 : 0;
      }
      case STRING_VALUE -> kind = SparkplugMessage.Kind.STRING;
      case VALUE_NOT_SET -> kind = SparkplugMessage.Kind.NONE;
      default -> kind = SparkplugMessage.Kind.OTHER;
    }
    String unit = null;
    Double low = null;
    Double high = null;
    if (m.hasProperties()) {
      Payload.PropertySet ps = m.getProperties();
      int n = Math.min(ps.getKeysCount(), ps.getValuesCount());
      for (int i = 0; i < n; i++) {
        String key = ps.getKeys(i);
        Payload.PropertyValue v = ps.getValues(i);
        if (v.getIsNull()) {
          continue;
        }
        if (unit == null
            && UNIT_KEYS.contains(key)
            && v.getValueCase() == Payload.PropertyValue.ValueCase.STRING_VALUE) {
          unit = v.getStringValue();
        } else if (low == null && LOW_KEYS.contains(key)) {
          low = number(v);
        } else if (high == null && HIGH_KEYS.contains(key)) {
          high = number(v);
        }
      }
    }
    return new SparkplugMessage.Metric(
        m.hasName() ? m.getName() : null,
        m.hasAlias() ? m.getAlias() : null,
        m.hasDatatype() ? m.getDatatype() : 0,
        m.hasTimestamp() ? m.getTimestamp() : null,
        m.getIsNull(),
        kind,
        bits,
        number,
        unit,
        low,
        high);
  }

  private static Double number(Payload.PropertyValue v) {
    return switch (v.getValueCase()) {
      case INT_VALUE -> (double) v.getIntValue();
      case LONG_VALUE -> (double) v.getLongValue();
      case FLOAT_VALUE -> (double) v.getFloatValue();
      case DOUBLE_VALUE -> v.getDoubleValue();
      case STRING_VALUE -> {
        try {
          yield Double.parseDouble(v.getStringValue().trim());
        } catch (NumberFormatException e) {
          yield null;
        }
      }
      default -> null;
    };
  }

  /**
   * The value of a numeric metric as the sensor model holds it (a double), by its datatype
   * (Sparkplug 3.0, section 6.4.16: signed integers travel as two's complement in the unsigned
   * fields). Booleans are 1 and 0.
   *
   * @param datatype the datatype from the birth certificate (data messages may omit it)
   * @return the value, or NaN for a datatype the sensor model cannot hold (strings, data sets,
   *     templates, arrays, bytes) or a value field that does not fit it
   */
  public static double numericValue(int datatype, SparkplugMessage.Metric m) {
    SparkplugMessage.Kind k = m.kind();
    return switch (datatype) {
      case SparkplugBProto.DataType.Int8_VALUE ->
          k == SparkplugMessage.Kind.INT ? (byte) m.bits() : Double.NaN;
      case SparkplugBProto.DataType.Int16_VALUE ->
          k == SparkplugMessage.Kind.INT ? (short) m.bits() : Double.NaN;
      case SparkplugBProto.DataType.Int32_VALUE ->
          k == SparkplugMessage.Kind.INT ? (int) m.bits() : Double.NaN;
      case SparkplugBProto.DataType.UInt8_VALUE,
          SparkplugBProto.DataType.UInt16_VALUE,
          SparkplugBProto.DataType.UInt32_VALUE ->
          k == SparkplugMessage.Kind.INT || k == SparkplugMessage.Kind.LONG
              ? (double) m.bits()
              : Double.NaN;
      case SparkplugBProto.DataType.Int64_VALUE ->
          k == SparkplugMessage.Kind.LONG ? (double) m.bits() : Double.NaN;
      case SparkplugBProto.DataType.UInt64_VALUE ->
          k == SparkplugMessage.Kind.LONG ? unsigned(m.bits()) : Double.NaN;
      case SparkplugBProto.DataType.Float_VALUE, SparkplugBProto.DataType.Double_VALUE ->
          k == SparkplugMessage.Kind.FLOAT || k == SparkplugMessage.Kind.DOUBLE
              ? m.number()
              : Double.NaN;
      case SparkplugBProto.DataType.Boolean_VALUE ->
          k == SparkplugMessage.Kind.BOOLEAN ? m.bits() : Double.NaN;
      default -> Double.NaN;
    };
  }

  /** Whether the sensor model can hold values of this datatype. */
  public static boolean isNumeric(int datatype) {
    return datatype >= SparkplugBProto.DataType.Int8_VALUE
        && datatype <= SparkplugBProto.DataType.Boolean_VALUE;
  }

  /** The datatype's name as the specification spells it ("Int32"), for log lines. */
  public static String typeName(int datatype) {
    SparkplugBProto.DataType t = SparkplugBProto.DataType.forNumber(datatype);
    return t == null ? "type " + datatype : t.name();
  }

  private static double unsigned(long bits) {
    return bits >= 0 ? bits : (double) (bits >>> 1) * 2.0 + (bits & 1);
  }

  /**
   * The NCMD payload asking an edge node to publish its births again: one Boolean metric {@value
   * #REBIRTH_METRIC} = true.
   */
  public static byte[] rebirthRequest(Instant now) {
    return Payload.newBuilder()
        .setTimestamp(now.toEpochMilli())
        .addMetrics(
            Payload.Metric.newBuilder()
                .setName(REBIRTH_METRIC)
                .setTimestamp(now.toEpochMilli())
                .setDatatype(SparkplugBProto.DataType.Boolean_VALUE)
                .setBooleanValue(true))
        .build()
        .toByteArray();
  }
}
