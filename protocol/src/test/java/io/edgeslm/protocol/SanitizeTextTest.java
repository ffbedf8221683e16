package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SanitizeTextTest {

  @Test
  void sanitizeText_everyRefusedControlCharacter_becomesOneReplacementCharacter() {
    for (char c = 0; c <= 0x9f; c++) {
      String in = "a" + c + "b";
      String out = Protocol.sanitizeText(in);
      boolean kept = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f);
      assertThat(out).as("U+%04X", (int) c).isEqualTo(kept ? in : "a\uFFFDb");
      // What comes out is always accepted by the records' checks.
      AnswerPart.of("q", 0, out);
    }
  }

  @Test
  void sanitizeText_cleanText_isReturnedAsIs() {
    String s = "Press 3 oil: 71.2 °C\n\tok";
    assertThat(Protocol.sanitizeText(s)).isSameAs(s);
  }

  @Test
  void answer_partCount_roundTrips_andIsAbsentWhenNotStreamed() throws Exception {
    Answer a =
        new Answer(
            Protocol.SCHEMA_VERSION,
            "q1",
            "Hello world",
            List.of(),
            Source.RULES,
            null,
            new AnswerTimings(0, null, 1, 0),
            Instant.parse("2026-12-01T00:00:00Z"));

    assertThat(Json.writeString(a)).doesNotContain("parts");
    Answer streamed = a.withText("Hello world", 3);
    Reply back = Json.read(Json.write(streamed), Reply.class);
    assertThat(((Answer) back).parts()).isEqualTo(3);
  }
}
