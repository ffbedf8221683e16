package io.edgeslm.agent.internal.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DetailsTest {

  @Test
  void printable_escapesControlCharacters_soModelOutputStaysOnOneVisibleLine() {
    assertThat(Details.printable("a\u0002b\nc\td\u007f", 100))
        .isEqualTo("a\\u0002b\\nc\\td\\u007F");
  }

  @Test
  void printable_boundsTheLength_andMarksTheCut() {
    String s = Details.printable("x".repeat(50) + "\u0001".repeat(50), 60);
    assertThat(s).hasSize(60).endsWith("…").startsWith("x".repeat(50) + "\\u0001");
  }

  @Test
  void printable_keepsNonAsciiText_andRefusesNothing() {
    assertThat(Details.printable("Öltemperatur 🌡 ok", 100)).isEqualTo("Öltemperatur 🌡 ok");
    assertThat(Details.printable(" \u0000 ", 100)).isEqualTo(" \\u0000 ");
    assertThat(Details.printable("   ", 100)).isEqualTo("(blank)");
    assertThat(Details.printable(null, 100)).isNull();
  }
}
