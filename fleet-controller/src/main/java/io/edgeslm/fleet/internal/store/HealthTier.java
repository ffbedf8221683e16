package io.edgeslm.fleet.internal.store;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The two tiers of health history (ADR 0012): 5-minute buckets in hourly partitions, hourly buckets
 * in daily partitions. Buckets and partitions are aligned to the Unix epoch, so they are whole UTC
 * minutes, hours and days.
 */
public enum HealthTier {
  /** 5-minute buckets, hourly partitions; serves the 24 h chart and the health gates. */
  FIVE_MINUTES("node_health_5m", Duration.ofMinutes(5), Duration.ofHours(1), "yyyyMMddHH"),
  /** Hourly buckets, daily partitions; serves longer history. */
  HOURLY("node_health_1h", Duration.ofHours(1), Duration.ofDays(1), "yyyyMMdd");

  private final String table;
  private final long bucketMillis;
  private final long partitionMillis;
  private final DateTimeFormatter suffix;

  HealthTier(String table, Duration bucket, Duration partition, String suffixPattern) {
    this.table = table;
    this.bucketMillis = bucket.toMillis();
    this.partitionMillis = partition.toMillis();
    this.suffix = DateTimeFormatter.ofPattern(suffixPattern).withZone(ZoneOffset.UTC);
  }

  /** The (parent) table. */
  public String table() {
    return table;
  }

  public Duration bucketLength() {
    return Duration.ofMillis(bucketMillis);
  }

  public Duration partitionLength() {
    return Duration.ofMillis(partitionMillis);
  }

  /** Start of the bucket that holds {@code at}. */
  public Instant bucket(Instant at) {
    return Instant.ofEpochMilli(Math.floorDiv(at.toEpochMilli(), bucketMillis) * bucketMillis);
  }

  /** Start of the partition that holds {@code at}. */
  public Instant partition(Instant at) {
    return Instant.ofEpochMilli(
        Math.floorDiv(at.toEpochMilli(), partitionMillis) * partitionMillis);
  }

  /** The partition's table name, from its start: {@code node_health_5m_2026120113}. */
  public String partitionName(Instant partitionStart) {
    return table + "_" + suffix.format(partitionStart);
  }

  /** The start of the partition named {@code name}, or null if the name is not one of ours. */
  public Instant partitionStart(String name) {
    String prefix = table + "_";
    if (!name.startsWith(prefix)) {
      return null;
    }
    String s = name.substring(prefix.length());
    if (s.length() != (this == FIVE_MINUTES ? 10 : 8) || !s.chars().allMatch(Character::isDigit)) {
      return null;
    }
    java.time.LocalDateTime t =
        java.time.LocalDateTime.of(
            Integer.parseInt(s.substring(0, 4)),
            Integer.parseInt(s.substring(4, 6)),
            Integer.parseInt(s.substring(6, 8)),
            this == FIVE_MINUTES ? Integer.parseInt(s.substring(8, 10)) : 0,
            0);
    return t.toInstant(ZoneOffset.UTC);
  }
}
