package io.edgeslm.fleet.internal.store;

import io.edgeslm.protocol.NodeHealth;
import java.time.Instant;

/**
 * A received health message waiting to be written.
 *
 * @param site the site from the topic
 * @param nodeId the node from the topic
 * @param health the validated message
 * @param receivedAt when the controller received it
 */
public record HealthSample(String site, String nodeId, NodeHealth health, Instant receivedAt) {}
