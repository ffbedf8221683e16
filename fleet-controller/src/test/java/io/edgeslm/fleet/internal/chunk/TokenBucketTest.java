package io.edgeslm.fleet.internal.chunk;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TokenBucketTest {

  @Test
  void aRateBelowOne_isRefused_namingTheKeyTheControllerReads() {
    // FleetConfig.Bundles#bytesPerSecond is fleet.bundles.bytes-per-second, as the docs say.
    assertThatThrownBy(() -> new TokenBucket(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "fleet.bundles.bytes-per-second must be at least 1: got 0. Set it to the chunk"
                + " server's bandwidth in bytes per second (FLEET_BUNDLES_BYTES_PER_SECOND;"
                + " default 52428800).");
  }
}
