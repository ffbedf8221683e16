package io.edgeslm.agent.internal.update;

import java.time.Duration;
import java.util.Objects;

/**
 * Update tuning.
 *
 * @param soak how long a new model is watched before it is committed
 * @param soakSample interval between health samples during the soak
 * @param diskMarginBytes free space to leave beyond twice the bundle size
 * @param tuning transfer window, timeouts and bounds
 * @param limits soak thresholds
 */
public record UpdateSettings(
    Duration soak,
    Duration soakSample,
    long diskMarginBytes,
    ChunkDownloader.Tuning tuning,
    SoakJudge.Limits limits) {

  public UpdateSettings {
    Objects.requireNonNull(soak, "soak");
    Objects.requireNonNull(soakSample, "soakSample");
    Objects.requireNonNull(tuning, "tuning");
    Objects.requireNonNull(limits, "limits");
    if (soakSample.isZero() || soakSample.isNegative()) {
      throw new IllegalArgumentException("soakSample must be positive: got " + soakSample);
    }
    if (diskMarginBytes < 0) {
      throw new IllegalArgumentException(
          "diskMarginBytes must be 0 or more: got " + diskMarginBytes);
    }
  }

  /** Five minutes of soak sampled every 10 s, 256 MiB disk margin. */
  public static UpdateSettings defaults() {
    return new UpdateSettings(
        Duration.ofMinutes(5),
        Duration.ofSeconds(10),
        256L << 20,
        ChunkDownloader.Tuning.defaults(),
        SoakJudge.Limits.defaults());
  }

  public UpdateSettings withSoak(Duration total, Duration sample) {
    return new UpdateSettings(total, sample, diskMarginBytes, tuning, limits);
  }

  public UpdateSettings withTuning(ChunkDownloader.Tuning t) {
    return new UpdateSettings(soak, soakSample, diskMarginBytes, t, limits);
  }

  public UpdateSettings withDiskMargin(long bytes) {
    return new UpdateSettings(soak, soakSample, bytes, tuning, limits);
  }
}
