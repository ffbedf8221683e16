package io.edgeslm.fleet.internal.store;

import java.time.Instant;

/** One stored journal entry of a node. */
public record JournalRow(
    long seq,
    Instant at,
    String event,
    String assignmentId,
    String commandId,
    String modelDigest,
    String detail) {}
