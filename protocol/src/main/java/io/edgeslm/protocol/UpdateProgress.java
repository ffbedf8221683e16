package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * Update progress on {@code edge/v1/{site}/{node}/update/progress} (QoS 0). The node publishes at
 * most once per {@value #MIN_INTERVAL_MS} ms, plus once at each phase change, so progress never
 * competes with the transfer itself.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param assignmentId the assignment
 * @param phase downloading, verifying, activating or soaking
 * @param bytesDone bytes verified and persisted so far (chunks received before a restart count)
 * @param bytesTotal the assignment's total size
 * @param bytesPerSecond transfer rate over the recent window; optional
 * @param etaSeconds estimated seconds until the download completes; optional
 * @param at when measured
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UpdateProgress(
    @JsonProperty(required = true) int schemaVersion,
    String assignmentId,
    UpdatePhase phase,
    @JsonProperty(required = true) long bytesDone,
    @JsonProperty(required = true) long bytesTotal,
    Long bytesPerSecond,
    Long etaSeconds,
    Instant at) {

  /** Smallest gap between two progress messages of the same phase. */
  public static final long MIN_INTERVAL_MS = 1000;

  public UpdateProgress {
    Checks.schemaVersion("UpdateProgress", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.identifier("assignmentId", assignmentId, 128);
    Checks.required("phase", phase);
    Checks.range("bytesTotal", bytesTotal, 0, Long.MAX_VALUE);
    Checks.range("bytesDone", bytesDone, 0, bytesTotal);
    Checks.optionalRange("bytesPerSecond", bytesPerSecond, 0, Long.MAX_VALUE);
    Checks.optionalRange("etaSeconds", etaSeconds, 0, Long.MAX_VALUE);
    Checks.required("at", at);
  }
}
