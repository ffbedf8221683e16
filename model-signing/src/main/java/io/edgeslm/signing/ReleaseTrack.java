package io.edgeslm.signing;

import java.util.Objects;

/** A model and channel: the scope of a version number and its high-water mark. */
public record ReleaseTrack(String model, String channel) {
  public ReleaseTrack {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(channel, "channel");
  }

  @Override
  public String toString() {
    return model + "@" + channel;
  }
}
