package io.edgeslm.agent.internal.sensor.sparkplug;

import static io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads.aliasMetric;
import static io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads.bdSeq;
import static io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads.birthMetric;
import static io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads.encode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.eclipse.tahu.message.model.MetricDataType;
import org.junit.jupiter.api.Test;

/**
 * The host-side Sparkplug B rules (Eclipse Sparkplug 3.0, chapter 5) on payloads from Tahu's
 * encoder, with the time injected.
 */
class SparkplugTrackerTest {

  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  private static final String OIL = "plant7/line1/press3/Hydraulics/Oil Temperature";

  private final SparkplugTracker tracker = new SparkplugTracker(Duration.ofSeconds(30), 1000);

  private SparkplugTracker.Effects send(String topic, byte[] payload, Instant now)
      throws Exception {
    return tracker.onMessage(
        SparkplugTopic.parse(topic).orElseThrow(), SparkplugDecoder.decode(payload), now);
  }

  private void born() throws Exception {
    send("spBv1.0/plant7/NBIRTH/line1", encode(0L, List.of(bdSeq(3))), T0);
    send(
        "spBv1.0/plant7/DBIRTH/line1/press3",
        encode(
            1L,
            List.of(
                birthMetric(
                    "Hydraulics/Oil Temperature", 7, MetricDataType.Float, 61.5f, "°C", 40.0, 80.0),
                birthMetric("Strokes", 8, MetricDataType.UInt32, 1200L, null, null, null),
                birthMetric("Running", 9, MetricDataType.Boolean, true, null, null, null),
                birthMetric("Recipe", 10, MetricDataType.String, "A7", null, null, null))),
        T0);
  }

  @Test
  void deviceBirth_definesNumericMetricsWithUnitRangeAndValue() throws Exception {
    send("spBv1.0/plant7/NBIRTH/line1", encode(0L, List.of(bdSeq(3))), T0);
    SparkplugTracker.Effects e =
        send(
            "spBv1.0/plant7/DBIRTH/line1/press3",
            encode(
                1L,
                List.of(
                    birthMetric(
                        "Hydraulics/Oil Temperature",
                        7,
                        MetricDataType.Float,
                        61.5f,
                        "°C",
                        40.0,
                        80.0),
                    birthMetric("Recipe", 10, MetricDataType.String, "A7", null, null, null))),
            T0);

    assertThat(e.defined())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.sensorId()).isEqualTo(OIL);
              assertThat(d.alias()).isEqualTo("press3 Hydraulics/Oil Temperature");
              assertThat(d.unit()).isEqualTo("°C");
              assertThat(d.low()).isEqualTo(40.0);
              assertThat(d.high()).isEqualTo(80.0);
            });
    assertThat(e.updates()).extracting(SparkplugTracker.Update::value).containsExactly(61.5);
    assertThat(e.rebirth()).isFalse();
    assertThat(e.problems()).isEmpty();
  }

  @Test
  void deviceData_byAliasOnly_updatesTheBornMetricWithTypedValues() throws Exception {
    born();
    SparkplugTracker.Effects e =
        send(
            "spBv1.0/plant7/DDATA/line1/press3",
            encode(
                2L,
                List.of(
                    aliasMetric(7, MetricDataType.Float, 83.25f),
                    aliasMetric(8, MetricDataType.UInt32, 4_000_000_000L),
                    aliasMetric(9, MetricDataType.Boolean, false))),
            T0.plusSeconds(1));

    assertThat(e.updates())
        .extracting(SparkplugTracker.Update::sensorId, SparkplugTracker.Update::value)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(OIL, 83.25),
            org.assertj.core.groups.Tuple.tuple("plant7/line1/press3/Strokes", 4.0e9),
            org.assertj.core.groups.Tuple.tuple("plant7/line1/press3/Running", 0.0));
    assertThat(e.stale()).isEmpty();
    assertThat(e.rebirth()).isFalse();
  }

  @Test
  void seqGap_marksTheNodesOtherValuesStaleAndRequestsRebirth() throws Exception {
    born();
    SparkplugTracker.Effects e =
        send(
            "spBv1.0/plant7/DDATA/line1/press3",
            encode(5L, List.of(aliasMetric(8, MetricDataType.UInt32, 1300L))),
            T0.plusSeconds(1));

    assertThat(e.problems()).containsExactly("seq gap from plant7/line1: expected 2, got 5");
    assertThat(e.stale())
        .containsEntry(OIL, "messages from edge node line1 were lost (seq gap)")
        .doesNotContainKey("plant7/line1/press3/Strokes");
    assertThat(e.rebirth()).isTrue();
  }

  @Test
  void seqWrapsFrom255To0_isNoGap() throws Exception {
    send("spBv1.0/plant7/NBIRTH/line1", encode(254L, List.of(bdSeq(0))), T0);
    send("spBv1.0/plant7/NDATA/line1", encode(255L, List.of()), T0);
    SparkplugTracker.Effects e = send("spBv1.0/plant7/NDATA/line1", encode(0L, List.of()), T0);
    assertThat(e.problems()).isEmpty();
    assertThat(e.rebirth()).isFalse();
  }

  @Test
  void unknownAlias_requestsRebirthAtMostOncePerInterval() throws Exception {
    born();
    byte[] unknown = encode(2L, List.of(aliasMetric(99, MetricDataType.Float, 1f)));
    assertThat(send("spBv1.0/plant7/DDATA/line1/press3", unknown, T0.plusSeconds(1)).rebirth())
        .isTrue();
    SparkplugTracker.Effects again =
        send(
            "spBv1.0/plant7/DDATA/line1/press3",
            encode(3L, List.of(aliasMetric(99, MetricDataType.Float, 1f))),
            T0.plusSeconds(20));
    assertThat(again.rebirth()).isFalse();
    assertThat(again.problems())
        .containsExactly("unknown metric alias 99 in DDATA from plant7/line1/press3");
    assertThat(
            send(
                    "spBv1.0/plant7/DDATA/line1/press3",
                    encode(4L, List.of(aliasMetric(99, MetricDataType.Float, 1f))),
                    T0.plusSeconds(31))
                .rebirth())
        .isTrue();
  }

  @Test
  void dataBeforeAnyBirth_agentStartedAfterTheNode_requestsRebirth() throws Exception {
    SparkplugTracker.Effects e =
        send(
            "spBv1.0/plant7/DDATA/line1/press3",
            encode(17L, List.of(aliasMetric(7, MetricDataType.Float, 70f))),
            T0);
    assertThat(e.rebirth()).isTrue();
    assertThat(e.updates()).isEmpty();
    assertThat(e.problems()).containsExactly("DDATA from plant7/line1 before its NBIRTH");
  }

  @Test
  void nodeDeath_marksEveryMetricOfTheNodeAndItsDevicesStale() throws Exception {
    born();
    SparkplugTracker.Effects e =
        send("spBv1.0/plant7/NDEATH/line1", encode(null, List.of(bdSeq(3))), T0.plusSeconds(5));
    assertThat(e.stale())
        .containsEntry(OIL, "edge node line1 went offline (NDEATH)")
        .containsKey("plant7/line1/press3/Running");
    assertThat(tracker.isOnline("plant7/line1")).isFalse();
  }

  @Test
  void nodeDeathOfAnOlderSession_lateWill_isIgnored() throws Exception {
    born();
    SparkplugTracker.Effects e =
        send("spBv1.0/plant7/NDEATH/line1", encode(null, List.of(bdSeq(2))), T0.plusSeconds(5));
    assertThat(e.stale()).isEmpty();
    assertThat(tracker.isOnline("plant7/line1")).isTrue();
  }

  @Test
  void deviceDeath_marksOnlyThatDevicesMetricsStale() throws Exception {
    born();
    send(
        "spBv1.0/plant7/DBIRTH/line1/press4",
        encode(2L, List.of(birthMetric("Speed", 1, MetricDataType.Double, 3.0, "m/s", null, null))),
        T0);
    SparkplugTracker.Effects e =
        send("spBv1.0/plant7/DDEATH/line1/press3", encode(3L, List.of()), T0.plusSeconds(5));
    assertThat(e.stale())
        .containsEntry(OIL, "device press3 went offline (DDEATH)")
        .doesNotContainKey("plant7/line1/press4/Speed");
  }

  @Test
  void valueOfAnotherTypeThanItsBirth_isAProblemNotAValue() throws Exception {
    born();
    SparkplugTracker.Effects e =
        send(
            "spBv1.0/plant7/DDATA/line1/press3",
            encode(2L, List.of(aliasMetric(7, MetricDataType.String, "hot"))),
            T0);
    assertThat(e.updates()).isEmpty();
    assertThat(e.problems()).containsExactly("a STRING value for " + OIL + ", born as Float");
  }

  @Test
  void malformedProtobuf_isRefusedByTheDecoder() {
    assertThatThrownBy(() -> SparkplugDecoder.decode(new byte[] {(byte) 0xff, 0x01, 0x02}))
        .isInstanceOf(SparkplugFormatException.class)
        .hasMessageStartingWith("not a Sparkplug B protobuf payload: ");
  }

  @Test
  void rebirthRequest_isANodeControlRebirthBooleanTrue() throws Exception {
    SparkplugMessage m = SparkplugDecoder.decode(SparkplugDecoder.rebirthRequest(T0));
    assertThat(m.metrics())
        .singleElement()
        .satisfies(
            x -> {
              assertThat(x.name()).isEqualTo("Node Control/Rebirth");
              assertThat(x.kind()).isEqualTo(SparkplugMessage.Kind.BOOLEAN);
              assertThat(x.bits()).isEqualTo(1);
            });
    assertThat(
            SparkplugTopic.parse("spBv1.0/plant7/DDATA/line1/press3")
                .orElseThrow()
                .nodeCommandTopic())
        .isEqualTo("spBv1.0/plant7/NCMD/line1");
  }

  @Test
  void signedIntegers_travelAsTwosComplement() throws Exception {
    send(
        "spBv1.0/g/NBIRTH/n",
        encode(
            0L,
            List.of(
                bdSeq(1),
                birthMetric("t", 1, MetricDataType.Int16, (short) -12, "°C", null, null))),
        T0);
    SparkplugTracker.Effects e =
        send(
            "spBv1.0/g/NDATA/n",
            encode(1L, List.of(aliasMetric(1, MetricDataType.Int16, (short) -40))),
            T0);
    assertThat(e.updates()).extracting(SparkplugTracker.Update::value).containsExactly(-40.0);
  }
}
