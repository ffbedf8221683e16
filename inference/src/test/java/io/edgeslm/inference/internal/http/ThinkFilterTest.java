package io.edgeslm.inference.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ThinkFilterTest {

  static String run(List<String> pieces) {
    ThinkFilter f = new ThinkFilter();
    StringBuilder out = new StringBuilder();
    for (String p : pieces) {
      out.append(f.accept(p));
    }
    return out.append(f.finish()).toString();
  }

  @Test
  void wholeSpanInOnePiece_isCut_andTheBlankLineAfterItToo() {
    assertThat(run(List.of("<think>The oil is hot.</think>\n\nOil is 71.2 °C.")))
        .isEqualTo("Oil is 71.2 °C.");
  }

  @Test
  void tagsSplitAcrossPieces_areStillRecognised() {
    assertThat(run(List.of("<thi", "nk>hmm, press 3", "</th", "ink>", "\n", "Press 3 is fine.")))
        .isEqualTo("Press 3 is fine.");
  }

  @Test
  void textBeforeTheSpan_isKept() {
    assertThat(run(List.of("Answer: ", "<think>x</think>", " yes"))).isEqualTo("Answer: yes");
  }

  @Test
  void unclosedSpan_swallowsTheRest_soThoughtsNeverReachTheOperator() {
    assertThat(run(List.of("<think>still thinking when the budget ran out"))).isEmpty();
  }

  @Test
  void textThatOnlyLooksLikeATagStart_isReleasedWhenItTurnsOutNotToBeOne() {
    ThinkFilter f = new ThinkFilter();
    assertThat(f.accept("a <th")).isEqualTo("a ");
    assertThat(f.accept("ree")).isEqualTo("<three");
    assertThat(f.accept(" <")).isEqualTo(" ");
    assertThat(f.finish()).isEqualTo("<");
  }

  @Test
  void noTags_passesEverythingThrough() {
    assertThat(run(List.of("Pump ", "2 ", "runs."))).isEqualTo("Pump 2 runs.");
  }
}
