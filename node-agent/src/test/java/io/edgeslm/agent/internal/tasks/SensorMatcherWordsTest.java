package io.edgeslm.agent.internal.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The words a question and a sensor name are matched by, for ASCII and for other text alike. */
class SensorMatcherWordsTest {

  @Test
  void asciiSplitsAtLettersAndDigitsAndDropsSingleLetters() {
    assertThat(SensorMatcher.words("What is the oil temperature of Press3?"))
        .containsExactly("what", "is", "the", "oil", "temperature", "of", "pres", "3");
    assertThat(SensorMatcher.words("line2_motor_current a 7 x1y"))
        .containsExactly("line", "2", "motor", "current", "7", "1");
    assertThat(SensorMatcher.words("  --Temp 12ab34 temps  "))
        .containsExactly("temperature", "12", "ab", "34", "temp");
    assertThat(SensorMatcher.words("")).isEmpty();
    assertThat(SensorMatcher.words("?!")).isEmpty();
  }

  @Test
  void otherTextIsFoldedAsBefore() {
    // Accents folded, then the same runs as ASCII text gives.
    assertThat(SensorMatcher.words("Öltemperatur Presse3 ÅB"))
        .containsExactly("oltemperatur", "presse", "3", "ab");
    assertThat(SensorMatcher.words("Température du four 2"))
        .containsExactly("temperature", "du", "four", "2");
  }

  @Test
  void sameWordsWhetherOrNotTheTextHoldsOneNonAsciiCharacter() {
    // The fast path (ASCII) and the regular expressions (anything else) agree.
    String ascii = "Is press 3 oil_temp above 80? Line4-flow";
    assertThat(SensorMatcher.words(ascii + " é"))
        .containsExactlyElementsOf(SensorMatcher.words(ascii + " e"));
  }
}
