package io.edgeslm.fleet.internal.store;

import io.edgeslm.protocol.NodeHealth;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;

/**
 * The health of one node while serving one model during one bucket of a {@link HealthTier}: what
 * the chart and the gates need, in a form that merges (sums, minima, maxima, the newest gauges).
 * The database merges a stored bucket with a new one by the same rules as {@link #merge}.
 *
 * @param modelDigest the served model, or {@code ""} for messages without one
 * @param samples health messages in the bucket
 * @param firstAt oldest message time; a bucket accepts only messages newer than its {@code lastAt}
 * @param lastAt newest message time; the gauges (ready .. cpu temperature) are that message's
 * @param tpsSum sum of the reported tokens/s over the {@code tpsN} messages that had one
 * @param p95Sum sum of the reported p95 latencies over the {@code p95N} messages that had one
 * @param scoreMin lowest activation score, or null
 */
public record HealthBucket(
    String nodeId,
    Instant bucket,
    String modelDigest,
    int samples,
    Instant firstAt,
    Instant lastAt,
    boolean ready,
    String source,
    double tpsSum,
    int tpsN,
    double p95Sum,
    int p95N,
    int queueDepth,
    long requestsMin,
    long requestsMax,
    long errorsMin,
    long errorsMax,
    long ramUsedBytes,
    long ramTotalBytes,
    long diskFreeBytes,
    Double cpuTemperatureC,
    Double scoreMin) {

  /** One message as a bucket of the tier (times truncated to the database's microseconds). */
  public static HealthBucket of(HealthTier tier, String nodeId, NodeHealth h) {
    Instant at = h.at().truncatedTo(ChronoUnit.MICROS);
    return new HealthBucket(
        nodeId,
        tier.bucket(at),
        // What serves: a LoRA adapter's health counts for the adapter bundle (the rollout gate of
        // an adapter looks for it), a base model's alone for the base.
        h.model() == null ? "" : h.adapter() != null ? h.adapter().digest() : h.model().digest(),
        1,
        at,
        at,
        h.ready(),
        h.source().name().toLowerCase(Locale.ROOT),
        h.tokensPerSecond() == null ? 0 : h.tokensPerSecond(),
        h.tokensPerSecond() == null ? 0 : 1,
        h.p95LatencyMs() == null ? 0 : h.p95LatencyMs(),
        h.p95LatencyMs() == null ? 0 : 1,
        h.queueDepth(),
        h.requests(),
        h.requests(),
        h.errors(),
        h.errors(),
        h.ramUsedBytes(),
        h.ramTotalBytes(),
        h.diskFreeBytes(),
        h.cpuTemperatureC(),
        h.activationScore());
  }

  /** This bucket as (part of) the bucket of a coarser tier that holds it. */
  HealthBucket in(HealthTier tier) {
    return new HealthBucket(
        nodeId,
        tier.bucket(bucket),
        modelDigest,
        samples,
        firstAt,
        lastAt,
        ready,
        source,
        tpsSum,
        tpsN,
        p95Sum,
        p95N,
        queueDepth,
        requestsMin,
        requestsMax,
        errorsMin,
        errorsMax,
        ramUsedBytes,
        ramTotalBytes,
        diskFreeBytes,
        cpuTemperatureC,
        scoreMin);
  }

  /** The key: node, bucket start, model. */
  String key() {
    return nodeId + '\u0000' + bucket.toEpochMilli() + '\u0000' + modelDigest;
  }

  /** This bucket followed by {@code newer} (whose messages are all newer than this one's). */
  public HealthBucket merge(HealthBucket newer) {
    return new HealthBucket(
        nodeId,
        bucket,
        modelDigest,
        samples + newer.samples,
        firstAt,
        newer.lastAt,
        newer.ready,
        newer.source,
        tpsSum + newer.tpsSum,
        tpsN + newer.tpsN,
        p95Sum + newer.p95Sum,
        p95N + newer.p95N,
        newer.queueDepth,
        Math.min(requestsMin, newer.requestsMin),
        Math.max(requestsMax, newer.requestsMax),
        Math.min(errorsMin, newer.errorsMin),
        Math.max(errorsMax, newer.errorsMax),
        newer.ramUsedBytes,
        newer.ramTotalBytes,
        newer.diskFreeBytes,
        newer.cpuTemperatureC,
        lower(scoreMin, newer.scoreMin));
  }

  /**
   * The lower of two optional scores. A method, not a nested conditional: mixing {@code Double} and
   * {@code double} branches unboxes the null one and throws.
   */
  private static Double lower(Double a, Double b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return Math.min(a, b);
  }

  /**
   * A batch of messages as buckets of the tier: one per (node, bucket, model), ordered by key (so
   * two writers lock rows in the same order). A message repeated in the batch (same node and time)
   * counts once.
   */
  public static List<HealthBucket> aggregate(HealthTier tier, List<HealthSample> batch) {
    List<HealthSample> sorted = new ArrayList<>(batch);
    sorted.sort(Comparator.comparing((HealthSample s) -> s.health().at()));
    Set<String> seen = new HashSet<>();
    TreeMap<String, HealthBucket> out = new TreeMap<>();
    for (HealthSample s : sorted) {
      if (!seen.add(s.nodeId() + '\u0000' + s.health().at())) {
        continue;
      }
      HealthBucket b = of(tier, s.nodeId(), s.health());
      out.merge(b.key(), b, HealthBucket::merge);
    }
    return List.copyOf(out.values());
  }
}
