package io.edgeslm.agent.internal.qa;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.Protocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a model's streamed pieces into numbered {@link AnswerPart}s whose texts, joined, are the
 * final answer (the contract of {@code Answer.parts}). The final answer is the model's whole text
 * sanitized ({@link Protocol#sanitizeText}) and stripped of surrounding white space, so the parts
 * are built by the same rules: every piece is sanitized, never refused (a control character in a
 * token becomes U+FFFD, the part is still sent); white space before the first visible character is
 * left out; white space after the last one is held back until a visible character follows, so an
 * answer that ends in white space has not been streamed with it. The streamed text stops at {@link
 * Answer#MAX_ANSWER_CHARS}, as the answer does.
 *
 * <p>Pure and not thread-safe: one question's pieces arrive on one thread, in order.
 */
final class PartStream {

  /** What {@link #finish} leaves to publish. */
  record Finish(List<AnswerPart> parts, Optional<Integer> count) {}

  private final String id;
  private final int maxPartChars;
  private final StringBuilder sent = new StringBuilder();
  private final StringBuilder held = new StringBuilder();
  private boolean visible;
  private int next;

  PartStream(String id) {
    this(id, AnswerPart.MAX_TEXT_CHARS);
  }

  PartStream(String id, int maxPartChars) {
    this.id = id;
    this.maxPartChars = maxPartChars;
  }

  /** The parts to publish now for {@code piece} (none while only white space came). */
  List<AnswerPart> add(String piece) {
    String clean = Protocol.sanitizeText(piece);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < clean.length(); ) {
      int c = clean.codePointAt(i);
      i += Character.charCount(c);
      if (Character.isWhitespace(c)) {
        if (visible) {
          held.appendCodePoint(c);
        }
      } else {
        visible = true;
        out.append(held).appendCodePoint(c);
        held.setLength(0);
      }
    }
    int room = Answer.MAX_ANSWER_CHARS - sent.length();
    if (out.length() > room) {
      out.setLength(room);
    }
    return parts(out.toString());
  }

  /**
   * Closes the stream against the final answer text.
   *
   * @return the parts still to publish so that all parts join up to {@code answer} (what was held
   *     back or cut), and the part count for {@code Answer.parts}; no count when {@code answer}
   *     does not continue what was streamed (the rules answered instead of the model)
   */
  Finish finish(String answer) {
    if (!answer.startsWith(sent.toString())) {
      return new Finish(List.of(), Optional.empty());
    }
    List<AnswerPart> rest = parts(answer.substring(sent.length()));
    return new Finish(rest, Optional.of(next));
  }

  /** Parts published so far. */
  int count() {
    return next;
  }

  private List<AnswerPart> parts(String text) {
    List<AnswerPart> out = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      int end = Math.min(text.length(), i + maxPartChars);
      // Never split a surrogate pair between two parts.
      if (end < text.length() && end - 1 > i && Character.isHighSurrogate(text.charAt(end - 1))) {
        end--;
      }
      out.add(AnswerPart.of(id, next++, text.substring(i, end)));
      i = end;
    }
    sent.append(text);
    return out;
  }
}
