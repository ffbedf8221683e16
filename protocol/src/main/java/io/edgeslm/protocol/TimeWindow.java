package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * A closed time interval, e.g. the sensor window a report covers.
 *
 * @param from start, not after {@code to}
 * @param to end
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TimeWindow(Instant from, Instant to) {

  public TimeWindow {
    Checks.required("window.from", from);
    Checks.required("window.to", to);
    Checks.check(
        !from.isAfter(to),
        "window.from must not be after window.to: got from="
            + from
            + ", to="
            + to
            + ". Swap them.");
  }
}
