package io.edgeslm.fleet.internal.store;

import io.edgeslm.protocol.NodeBirth;
import java.time.Instant;

/** A received birth message waiting to be written. */
public record BirthEvent(String site, String nodeId, NodeBirth birth, Instant receivedAt) {}
