package io.edgeslm.fleet.internal.store;

import java.time.Instant;

/**
 * A node's health over one bucket of history (5 minutes within the detail retention, else an hour),
 * for one model.
 *
 * @param at time of the bucket's newest message
 * @param samples health messages in the bucket
 * @param ready readiness in the newest message
 * @param tokensPerSecond mean over the bucket's messages that reported it, or null
 * @param p95LatencyMs mean over the bucket's messages that reported it, or null
 * @param requests the request counter's highest value in the bucket
 * @param errors the error counter's highest value in the bucket
 * @param activationScore the lowest activation score in the bucket, or null
 */
public record HealthPoint(
    Instant at,
    int samples,
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
