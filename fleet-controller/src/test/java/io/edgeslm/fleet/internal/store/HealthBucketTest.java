package io.edgeslm.fleet.internal.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeHealth;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthBucketTest {

  static final ModelRef A = ModelRef.of("m", 1, "sha256:" + "a".repeat(64));
  static final ModelRef B = ModelRef.of("m", 2, "sha256:" + "b".repeat(64));
  static final Instant T = Instant.parse("2026-03-02T10:00:00Z");

  @Test
  void aggregate_oneBucket_sumsCountsAndKeepsTheNewestGauges() {
    List<HealthBucket> out =
        HealthBucket.aggregate(
            HealthTier.FIVE_MINUTES,
            List.of(
                StoreContract.sample("n1", A, T.plusSeconds(60), 200, 12),
                StoreContract.sample("n1", A, T, 100, 10)));
    assertThat(out).hasSize(1);
    HealthBucket b = out.get(0);
    assertThat(b.bucket()).isEqualTo(T);
    assertThat(b.samples()).isEqualTo(2);
    assertThat(b.tpsSum()).isEqualTo(22.0);
    assertThat(b.tpsN()).isEqualTo(2);
    assertThat(b.requestsMin()).isEqualTo(100);
    assertThat(b.requestsMax()).isEqualTo(200);
    assertThat(b.firstAt()).isEqualTo(T);
    assertThat(b.lastAt()).isEqualTo(T.plusSeconds(60));
  }

  @Test
  void aggregate_aMessageWithoutActivationScore_keepsTheLowestScoreOfTheOthers() {
    // A node that reports no score (no activation check ran) beside one that does, both orders:
    // the merge once unboxed the missing score and killed the controller's health writer.
    List<HealthBucket> out =
        HealthBucket.aggregate(
            HealthTier.FIVE_MINUTES,
            List.of(
                scored(T, null), scored(T.plusSeconds(30), 0.8), scored(T.plusSeconds(60), null)));
    assertThat(out).hasSize(1);
    assertThat(out.get(0).samples()).isEqualTo(3);
    assertThat(out.get(0).scoreMin()).isEqualTo(0.8);
    assertThat(
            HealthBucket.aggregate(
                    HealthTier.FIVE_MINUTES,
                    List.of(scored(T, null), scored(T.plusSeconds(30), null)))
                .get(0)
                .scoreMin())
        .isNull();
  }

  static HealthSample scored(Instant at, Double score) {
    NodeHealth h = StoreContract.health(A, at, 100, 2, 10);
    return new HealthSample(
        "plant-1",
        "n1",
        new NodeHealth(
            h.schemaVersion(),
            h.at(),
            h.intervalSeconds(),
            h.ready(),
            h.notReadyReason(),
            h.source(),
            h.model(),
            h.tokensPerSecond(),
            h.p95LatencyMs(),
            h.queueDepth(),
            h.requests(),
            h.errors(),
            h.ramUsedBytes(),
            h.ramTotalBytes(),
            h.diskFreeBytes(),
            h.cpuTemperatureC(),
            score),
        at.plusSeconds(1));
  }

  @Test
  void aggregate_repeatedMessage_countsOnce() {
    var s = StoreContract.sample("n1", A, T, 100, 10);
    assertThat(HealthBucket.aggregate(HealthTier.HOURLY, List.of(s, s)).get(0).samples())
        .isEqualTo(1);
  }

  @Test
  void aggregate_otherModelOrBucketOrNode_areSeparateBucketsInKeyOrder() {
    List<HealthBucket> out =
        HealthBucket.aggregate(
            HealthTier.FIVE_MINUTES,
            List.of(
                StoreContract.sample("n2", A, T, 1, 1),
                StoreContract.sample("n1", B, T.plusSeconds(10), 1, 1),
                StoreContract.sample("n1", A, T.plusSeconds(300), 1, 1),
                StoreContract.sample("n1", A, T, 1, 1)));
    assertThat(out)
        .extracting(b -> b.nodeId() + "@" + b.bucket() + "/" + b.modelDigest().charAt(7))
        .containsExactly(
            "n1@2026-03-02T10:00:00Z/a",
            "n1@2026-03-02T10:00:00Z/b",
            "n1@2026-03-02T10:05:00Z/a",
            "n2@2026-03-02T10:00:00Z/a");
  }

  @Test
  void tier_partitionNames_roundTripTheirUtcStart() {
    Instant start = HealthTier.FIVE_MINUTES.partition(T.plusSeconds(1800));
    assertThat(HealthTier.FIVE_MINUTES.partitionName(start)).isEqualTo("node_health_5m_2026030210");
    assertThat(HealthTier.FIVE_MINUTES.partitionStart("node_health_5m_2026030210")).isEqualTo(T);
    assertThat(HealthTier.HOURLY.partitionName(HealthTier.HOURLY.partition(T)))
        .isEqualTo("node_health_1h_20260302");
    assertThat(HealthTier.HOURLY.partitionStart("node_health_1h_2026030")).isNull();
    assertThat(HealthTier.HOURLY.partitionStart("other_20260302")).isNull();
  }
}
