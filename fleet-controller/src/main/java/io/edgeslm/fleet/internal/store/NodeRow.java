package io.edgeslm.fleet.internal.store;

import io.edgeslm.protocol.ModelRef;
import java.time.Instant;
import java.util.Map;

/** A node as the registry stores it. */
public record NodeRow(
    String nodeId,
    String site,
    String agentVersion,
    String arch,
    String deviceClass,
    Long ramBytes,
    Map<String, String> labels,
    ModelRef model,
    Long maxPacketBytes,
    Instant bootedAt,
    Instant birthAt,
    String status,
    Instant statusSince,
    String statusReason,
    Boolean ready,
    Instant lastHealthAt,
    Instant firstSeenAt,
    Instant lastSeenAt,
    long journalSeq) {}
