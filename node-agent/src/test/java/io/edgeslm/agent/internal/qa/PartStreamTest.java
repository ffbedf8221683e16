package io.edgeslm.agent.internal.qa;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.AnswerPart;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PartStreamTest {

  private final List<AnswerPart> parts = new ArrayList<>();

  private static String joined(List<AnswerPart> parts) {
    StringBuilder b = new StringBuilder();
    parts.forEach(p -> b.append(p.text()));
    return b.toString();
  }

  @Test
  void everyControlCharacter_isReplaced_thePartIsStillSent() {
    PartStream s = new PartStream("q");
    StringBuilder token = new StringBuilder("a");
    for (char c = 0; c <= 0x1f; c++) {
      token.append(c);
    }
    for (char c = 0x7f; c <= 0x9f; c++) {
      token.append(c);
    }
    token.append('z');

    parts.addAll(s.add(token.toString()));

    // Tab, line feed and carriage return stay; the other 62 become U+FFFD.
    String expected =
        "a"
            + "\uFFFD".repeat(9)
            + "\t\n"
            + "\uFFFD".repeat(2)
            + "\r"
            + "\uFFFD".repeat(18)
            + "\uFFFD".repeat(0x9f - 0x7f + 1)
            + "z";
    assertThat(parts).extracting(AnswerPart::text).containsExactly(expected);
    assertThat(parts).extracting(AnswerPart::seq).containsExactly(0);
  }

  @Test
  void partsJoinUpToTheStrippedAnswer_leadingAndTrailingSpaceNotStreamed() {
    PartStream s = new PartStream("q");
    for (String piece : List.of("  \n", " Press", " 3", " is", " hot", ".", "\n", "  ")) {
      parts.addAll(s.add(piece));
    }
    String answer = " \n Press 3 is hot.\n   ".strip();

    PartStream.Finish f = s.finish(answer);
    parts.addAll(f.parts());

    assertThat(joined(parts)).isEqualTo("Press 3 is hot.");
    assertThat(f.count()).contains(parts.size());
    assertThat(parts).extracting(AnswerPart::seq).containsExactly(0, 1, 2, 3, 4);
  }

  @Test
  void spaceInsideTheAnswer_isStreamedOnceTheNextWordComes() {
    PartStream s = new PartStream("q");

    assertThat(s.add("one")).extracting(AnswerPart::text).containsExactly("one");
    assertThat(s.add(" ")).isEmpty();
    assertThat(s.add("\n")).isEmpty();
    assertThat(s.add("two")).extracting(AnswerPart::text).containsExactly(" \ntwo");
  }

  @Test
  void longPiece_isSplitAtThePartLimit_withoutBreakingASurrogatePair() {
    PartStream s = new PartStream("q", 4);

    parts.addAll(s.add("abc\uD83D\uDE00defgh"));

    assertThat(parts).extracting(AnswerPart::text).containsExactly("abc", "\uD83D\uDE00de", "fgh");
    assertThat(s.finish("abc\uD83D\uDE00defgh").count()).contains(3);
  }

  @Test
  void answerThatDoesNotContinueTheStream_hasNoPartCount() {
    PartStream s = new PartStream("q");
    s.add("The model began");

    PartStream.Finish f = s.finish("No sensor on this node matches the question.");

    assertThat(f.parts()).isEmpty();
    assertThat(f.count()).isEmpty();
  }

  @Test
  void answerLongerThanTheStream_getsTheRestAsAFinalPart() {
    PartStream s = new PartStream("q");
    parts.addAll(s.add("Hello"));

    PartStream.Finish f = s.finish("Hello world");
    parts.addAll(f.parts());

    assertThat(joined(parts)).isEqualTo("Hello world");
    assertThat(f.count()).contains(2);
  }
}
