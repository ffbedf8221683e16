package io.edgeslm.fleet.internal.rest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class UiFormatTest {

  @Test
  void eightGibibytesOfRam_showAsGiB_notAsARawByteCount() {
    assertThat(UiFormat.bytes(8L << 30)).isEqualTo("8.0 GiB");
  }

  @Test
  void sizes_pickTheLargestUnitBelow1024() {
    assertThat(UiFormat.bytes(0L)).isEqualTo("0 B");
    assertThat(UiFormat.bytes(1023L)).isEqualTo("1023 B");
    assertThat(UiFormat.bytes(1024L)).isEqualTo("1.0 KiB");
    assertThat(UiFormat.bytes(30_000L)).isEqualTo("29.3 KiB");
    assertThat(UiFormat.bytes(1536L << 20)).isEqualTo("1.5 GiB");
    assertThat(UiFormat.bytes(Long.MAX_VALUE)).isEqualTo("8.0 EiB");
  }

  @Test
  void absentValues_showAsADash() {
    assertThat(UiFormat.bytes(null)).isEqualTo("—");
    assertThat(UiFormat.time(null)).isEqualTo("—");
  }

  @Test
  void times_showInUtcToTheSecond() {
    assertThat(UiFormat.time(Instant.parse("2026-12-02T03:59:12.345Z")))
        .isEqualTo("2026-12-02 03:59:12 UTC");
  }
}
