package io.edgeslm.signing;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * How fresh the active release is: what a node reports so that a frozen or withheld update stream
 * (attacks A5, A10) becomes visible to the controller and to operators.
 */
public record Freshness(ReleaseTrack track, long version, Instant expires, Instant now) {
  public Freshness {
    Objects.requireNonNull(track, "track");
    Objects.requireNonNull(expires, "expires");
    Objects.requireNonNull(now, "now");
  }

  /** Of the active release at {@code now}. */
  public static Freshness of(ReleaseMetadata active, Instant now) {
    return new Freshness(active.track(), active.version(), active.expires(), now);
  }

  public boolean isExpired() {
    return !now.isBefore(expires);
  }

  /** Whole days since expiry (0 while fresh or within the first day). */
  public long daysOverdue() {
    return isExpired() ? Duration.between(expires, now).toDays() : 0;
  }

  /** Whole days left before expiry (0 once expired). */
  public long daysLeft() {
    return isExpired() ? 0 : Duration.between(now, expires).toDays();
  }

  /** One line for health reports and logs. */
  public String describe() {
    if (isExpired()) {
      return "No valid update for "
          + daysOverdue()
          + " days: release "
          + track
          + " v"
          + version
          + " expired at "
          + expires
          + ". Publish a fresh release for this track or check why updates do not arrive.";
    }
    return "Release "
        + track
        + " v"
        + version
        + " is valid until "
        + expires
        + " ("
        + daysLeft()
        + " days left).";
  }
}
