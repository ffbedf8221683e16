package io.edgeslm.fixturegamma;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Fixture: a state machine the purity rule allows: time comes in as an argument, a path is only a
 * value, and what to do goes out as values.
 */
public final class MachineThatOnlyDecides {

  /** What to do. */
  public record Effect(String what, Path dir, Instant at) {}

  public List<Effect> step(Path staging, Instant now) {
    return List.of(
        new Effect("verify", staging.resolve("bundle"), now.plus(Duration.ofSeconds(1))));
  }
}
