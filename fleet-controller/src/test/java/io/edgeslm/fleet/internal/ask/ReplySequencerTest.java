package io.edgeslm.fleet.internal.ask;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.AnswerTimings;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.Source;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The faults a streamed answer meets between the node and the reader, one per test. */
class ReplySequencerTest {

  private final ReplySequencer seq = new ReplySequencer(4, 3);
  private final List<Reply> out = new ArrayList<>();

  private static AnswerPart part(int n) {
    return AnswerPart.of("q", n, "p" + n + " ");
  }

  private static Answer answer(Integer parts) {
    return new Answer(
        Protocol.SCHEMA_VERSION,
        "q",
        "whole",
        List.of(),
        Source.RULES,
        null,
        new AnswerTimings(0, null, 1, 0),
        Instant.EPOCH,
        parts);
  }

  private void feed(Reply... replies) {
    for (Reply r : replies) {
      out.addAll(seq.accept(r));
    }
  }

  private List<Integer> seqs() {
    return out.stream()
        .filter(r -> r instanceof AnswerPart)
        .map(r -> ((AnswerPart) r).seq())
        .toList();
  }

  @Test
  void partsOvertakingEachOther_reachTheReaderInSeqOrder() {
    feed(part(1), part(0), part(3), part(2), answer(4));

    assertThat(seqs()).containsExactly(0, 1, 2, 3);
    assertThat(out.getLast()).isInstanceOf(Answer.class);
    assertThat(seq.gap().isEmpty()).isTrue();
  }

  @Test
  void partDeliveredTwice_isHandedOutOnce() {
    feed(part(0), part(0), part(2), part(2), part(1), part(1), answer(3));

    assertThat(seqs()).containsExactly(0, 1, 2);
    assertThat(seq.gap().isEmpty()).isTrue();
  }

  @Test
  void lostPartsInTheMiddle_areNamedWhenTheAnswerComes() {
    feed(part(0), part(2), part(3), part(5), answer(6));

    assertThat(seqs()).containsExactly(0, 2, 3, 5);
    assertThat(seq.gap().missing()).containsExactly(1, 4);
    assertThat(seq.gap().count()).isEqualTo(2);
  }

  @Test
  void lostLastParts_areNamedFromTheAnswersPartCount() {
    feed(part(0), part(1), answer(4));

    assertThat(seqs()).containsExactly(0, 1);
    assertThat(seq.gap().missing()).containsExactly(2, 3);
  }

  @Test
  void holeThatNeverFills_isGivenUpOnceTooManyPartsWaitBehindIt() {
    feed(part(1), part(2), part(3), part(4));
    assertThat(seqs()).isEmpty();

    feed(part(5));

    assertThat(seqs()).containsExactly(1, 2, 3, 4, 5);
    assertThat(seq.gap().missing()).containsExactly(0);
  }

  @Test
  void lateArrivalOfAPartGivenUp_isDroppedNotHandedOutOfOrder() {
    feed(part(1), part(2), part(3), part(4), part(5), part(0), answer(6));

    assertThat(seqs()).containsExactly(1, 2, 3, 4, 5);
    assertThat(seq.gap().missing()).containsExactly(0);
  }

  @Test
  void manyMissing_areAllCounted_theFirstListed() {
    feed(part(0), answer(100));

    assertThat(seq.gap().missing()).containsExactly(1, 2, 3);
    assertThat(seq.gap().count()).isEqualTo(99);
  }

  @Test
  void repliesAfterTheFinalOne_areIgnored() {
    feed(part(0), answer(1), part(1), answer(2));

    assertThat(out).hasSize(2);
    assertThat(seq.gap().isEmpty()).isTrue();
  }

  @Test
  void answerWithoutPartCount_reportsOnlyHolesBetweenPartsThatCame() {
    feed(part(0), part(2), answer(null));

    assertThat(seqs()).containsExactly(0, 2);
    assertThat(seq.gap().missing()).containsExactly(1);
  }

  @Test
  void errorReply_endsTheStream() {
    feed(part(0), ErrorReply.of("q", ErrorCode.INTERNAL, "failed"), part(1));

    assertThat(out).hasSize(2);
    assertThat(out.getLast()).isInstanceOf(ErrorReply.class);
  }
}
