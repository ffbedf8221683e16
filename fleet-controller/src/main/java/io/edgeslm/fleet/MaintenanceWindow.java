package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.EnumSet;
import java.util.Set;

/**
 * A recurring period in which a rollout may start waves. {@code start} after {@code end} means the
 * window runs past midnight into the next day; {@code days} names the day the window starts.
 *
 * @param days days of week on which the window opens; empty means every day
 * @param start local opening time (inclusive)
 * @param end local closing time (exclusive)
 * @param zone the time zone of {@code start} and {@code end}, e.g. {@code Europe/Berlin}
 */
public record MaintenanceWindow(Set<DayOfWeek> days, LocalTime start, LocalTime end, ZoneId zone) {

  public MaintenanceWindow {
    days = days == null || days.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(days));
    Checks.required("start", start);
    Checks.required("end", end);
    Checks.required("zone", zone);
    Checks.check(
        !start.equals(end),
        "a maintenance window's start and end must differ: both are "
            + start
            + ". Leave out windows to allow any time.");
  }

  /** Whether {@code at} falls inside this window. */
  public boolean contains(Instant at) {
    ZonedDateTime local = at.atZone(zone);
    LocalTime t = local.toLocalTime();
    if (start.isBefore(end)) {
      return opensOn(local.getDayOfWeek()) && !t.isBefore(start) && t.isBefore(end);
    }
    // Past midnight: the evening part belongs to today, the morning part to yesterday's window.
    if (!t.isBefore(start)) {
      return opensOn(local.getDayOfWeek());
    }
    return t.isBefore(end) && opensOn(local.getDayOfWeek().minus(1));
  }

  private boolean opensOn(DayOfWeek day) {
    return days.isEmpty() || days.contains(day);
  }
}
