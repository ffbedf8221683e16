package io.edgeslm.fleet.internal.store;

import io.edgeslm.protocol.NodeStatus;
import java.time.Instant;

/** A received status message (or will) waiting to be written. */
public record StatusEvent(String site, String nodeId, NodeStatus status, Instant receivedAt) {}
