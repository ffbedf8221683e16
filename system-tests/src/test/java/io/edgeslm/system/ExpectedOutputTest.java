package io.edgeslm.system;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExpectedOutputTest {

  @Test
  void literalLines_matchExactly_butTrailingBlanksAndEmptyLinesDoNotCount() {
    ExpectedOutput e = ExpectedOutput.of("token 64 characters\n");
    assertThat(e.matches("token 64 characters\n")).isTrue();
    assertThat(e.matches("token 64 characters   \n\n")).isTrue();
    assertThat(e.matches("token 63 characters\n")).isFalse();
    assertThat(e.matches("token 64 characters\nmore\n")).isFalse();
    assertThat(e.matches("")).isFalse();
  }

  @Test
  void anEllipsisInALine_standsForAnyTextOnThatLine() {
    ExpectedOutput e = ExpectedOutput.of("V2=plant-assistant-v2-…\n");
    assertThat(e.matches("V2=plant-assistant-v2-0123abcd4567\n")).isTrue();
    assertThat(e.matches("V2=plant-assistant-v2-\n")).isTrue();
    assertThat(e.matches("V2=plant-assistant-v3-0123\n")).isFalse();
    assertThat(e.matches("V2=plant-assistant-v2-01\nsecond line\n")).isFalse();
  }

  @Test
  void regexCharactersInTheText_areLiteral() {
    ExpectedOutput e = ExpectedOutput.of("{\"outcome\":\"activated\"…} (exit 0)\n");
    assertThat(e.matches("{\"outcome\":\"activated\",\"x\":1} (exit 0)")).isTrue();
    assertThat(e.matches("{\"outcome\":\"activated\"} (exit 0)")).isTrue();
    assertThat(e.matches("{\"outcome\":\"activatedX} (exit 0)")).isFalse();
    assertThat(e.matches("{\"outcome\":\"activated\"} exit 0")).isFalse();
  }

  @Test
  void aLineOfItsOwnEllipsis_standsForAnyNumberOfLines_noneIncluded() {
    ExpectedOutput e = ExpectedOutput.of("…\nexit 1\n…\nend\n");
    assertThat(e.matches("exit 1\nend\n")).isTrue();
    assertThat(e.matches("a\nb\nexit 1\nc\nend\n")).isTrue();
    assertThat(e.matches("a\nexit 2\nend\n")).isFalse();
    assertThat(e.matches("exit 1\nend\nafter\n")).isFalse();
    assertThat(ExpectedOutput.of("…\n").matches("")).isTrue();
    assertThat(ExpectedOutput.of("").matches("")).isTrue();
    assertThat(ExpectedOutput.of("").matches("something\n")).isFalse();
  }

  @Test
  void theStartOfARunningProgramsOutput_matchesOnceTheShownLinesHaveAppeared() {
    ExpectedOutput e = ExpectedOutput.of("…\n… connected to ssl://127.0.0.1:8883 …\n");
    assertThat(e.matchesStartOf("booting\n")).isFalse();
    assertThat(e.matchesStartOf("booting\n10:00:01 INFO connected to ssl://127.0.0.1:8883 as x\n"))
        .isTrue();
    assertThat(
            e.matchesStartOf(
                "booting\n10:00:01 INFO connected to ssl://127.0.0.1:8883 as x\nlater\n"))
        .isTrue();
  }

  @Test
  void aFailure_pointsAtTheFirstExpectLineTheOutputCannotGetPast() {
    ExpectedOutput e = ExpectedOutput.of("root sha256:…\nuploading 0% of …\nV2=…\n");
    assertThat(e.firstUnmatchedLine("root sha256:ab\nfleetctl: cannot reach\n")).isEqualTo(2);
    assertThat(e.firstUnmatchedLine("nothing\n")).isEqualTo(1);
  }
}
