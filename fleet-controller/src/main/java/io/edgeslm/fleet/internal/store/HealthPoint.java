package io.edgeslm.fleet.internal.store;

import java.time.Instant;

/** One stored health message. */
public record HealthPoint(
    Instant at,
    boolean ready,
    String source,
    String modelDigest,
    Double tokensPerSecond,
    Long p95LatencyMs,
    int queueDepth,
    long requests,
    long errors,
    long ramUsedBytes,
    long ramTotalBytes,
    long diskFreeBytes,
    Double cpuTemperatureC,
    Double activationScore) {}
