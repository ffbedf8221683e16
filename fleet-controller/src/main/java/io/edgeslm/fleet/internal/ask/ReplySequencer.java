package io.edgeslm.fleet.internal.ask;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Puts one question's replies in the order its reader needs: parts by {@code seq}, each once, then
 * the final reply. A part that comes before its predecessors waits for them; a repeated one (QoS 1
 * may deliver twice) is dropped; when the final answer comes, every part it counts ({@code
 * Answer.parts}) that has not arrived is missing, and so is a hole that later parts have waited
 * behind for too long. Missing parts are reported in {@link #gap}, never hidden.
 *
 * <p>Pure: no I/O, threads or clock; not thread-safe (the exchange calls it under its lock).
 */
final class ReplySequencer {

  private final int maxHeld;
  private final int maxListed;
  private final TreeMap<Integer, AnswerPart> early = new TreeMap<>();
  private final List<Integer> missing = new ArrayList<>();
  private long missingCount;
  private int nextSeq;
  private boolean ended;

  /**
   * @param maxHeld parts held while waiting for an earlier one; one more gives the hole up
   * @param maxListed missing seq numbers listed (all are counted)
   */
  ReplySequencer(int maxHeld, int maxListed) {
    this.maxHeld = maxHeld;
    this.maxListed = maxListed;
  }

  /** The replies to hand to the reader now, in order; empty after the final reply. */
  List<Reply> accept(Reply r) {
    List<Reply> out = new ArrayList<>();
    if (ended) {
      return out;
    }
    switch (r) {
      case AnswerPart part -> {
        if (part.seq() < nextSeq || early.containsKey(part.seq())) {
          return out;
        }
        early.put(part.seq(), part);
        if (early.size() > maxHeld) {
          skipTo(early.firstKey());
        }
        drain(out);
      }
      case Answer a -> {
        ended = true;
        // The final answer is the node's last reply on this topic, and MQTT keeps one publisher's
        // order on a topic: a part that has not come by now is lost.
        while (!early.isEmpty()) {
          skipTo(early.firstKey());
          drain(out);
        }
        if (a.parts() != null && a.parts() > nextSeq) {
          skipTo(a.parts());
        }
        out.add(a);
      }
      case ErrorReply e -> {
        ended = true;
        out.add(e);
      }
    }
    return out;
  }

  /** Records that a part handed out by {@link #accept} did not reach the reader after all. */
  void lost(int seq) {
    noteMissing(seq, seq + 1);
  }

  /** The parts missing so far. */
  AskService.Gap gap() {
    return new AskService.Gap(List.copyOf(missing), missingCount);
  }

  private void drain(List<Reply> out) {
    AnswerPart p;
    while ((p = early.remove(nextSeq)) != null) {
      out.add(p);
      nextSeq++;
    }
  }

  private void skipTo(int seq) {
    noteMissing(nextSeq, seq);
    nextSeq = seq;
  }

  private void noteMissing(int from, int to) {
    missingCount += to - from;
    for (int s = from; s < to && missing.size() < maxListed; s++) {
      missing.add(s);
    }
  }
}
