package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.FleetException;
import io.edgeslm.fleet.FleetInputException;
import io.edgeslm.fleet.FleetUnavailableException;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.ask.AskService;
import io.edgeslm.fleet.internal.store.NodeRow;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.Topics;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Asking a node from the API and the UI: checks the question and the node, then either waits for
 * the final reply (JSON) or relays the node's replies as they arrive as server-sent events (WHATWG
 * HTML, "Server-sent events"). Events, each with one JSON {@code data} line:
 *
 * <ul>
 *   <li>{@code question}: {@code {"id","node","deadline"}}, sent at once;
 *   <li>{@code part}: an {@link AnswerPart} as the node sent it ({@code seq}, {@code text}), in
 *       {@code seq} order, each once;
 *   <li>{@code gap}: {@code {"missing":[6,44],"missingCount":2,"parts":75}}, just before the
 *       answer, only when parts did not arrive: their seq numbers (at most {@value
 *       AskService#MAX_LISTED_MISSING} listed), how many, and the node's part count;
 *   <li>{@code answer}: the final {@link Answer}, whose {@code parts} says how many parts join up
 *       to its text; the stream ends;
 *   <li>{@code problem}: an RFC 9457 problem ({@code node-busy} with {@code retryAfterMs}, {@code
 *       node-error} with the node's {@code code}, {@code node-offline} when its status or last will
 *       arrives meanwhile, {@code node-timeout}); the stream ends.
 * </ul>
 *
 * A comment line is sent every {@value #KEEP_ALIVE_SECONDS} s of silence so proxies keep the
 * connection open.
 */
final class AskRelay {

  static final int KEEP_ALIVE_SECONDS = 15;

  static final String EVENT_STREAM = "text/event-stream";

  private AskRelay() {}

  /** A checked question for a registered, not offline node. */
  record Checked(NodeRow node, String question, Duration timeout) {}

  static Checked check(FleetController c, String id, String question, Integer timeoutSeconds)
      throws FleetException {
    if (question == null || question.isBlank()) {
      throw new FleetInputException("question must not be empty. Type a question for the node.");
    }
    if (question.length() > Question.MAX_QUESTION_CHARS) {
      throw new FleetInputException(
          "question must be at most "
              + Question.MAX_QUESTION_CHARS
              + " characters (the protocol's limit, which nodes share): got "
              + question.length()
              + ". Ask a shorter question.");
    }
    int timeout = timeoutSeconds == null ? 30 : timeoutSeconds;
    if (timeout < 1 || timeout > 120) {
      throw new FleetInputException(
          "timeoutSeconds must be between 1 and 120: got " + timeout + ".");
    }
    NodeRow node = c.nodes().node(id).orElseThrow(() -> FleetApi.notFound(id));
    if ("offline".equals(node.status())) {
      throw new FleetUnavailableException(
          FleetUnavailableException.NODE_OFFLINE,
          "Node '"
              + id
              + "' is offline"
              + (node.statusReason() == null ? "" : " (" + node.statusReason() + ")")
              + (node.statusSince() == null ? "" : " since " + node.statusSince())
              + " and cannot answer. Ask again when it is back online.",
          null,
          null);
    }
    return new Checked(node, question, Duration.ofSeconds(timeout));
  }

  /** Whether the client asked for the event stream. */
  static boolean wantsStream(HttpHeaders headers) {
    return headers.getAcceptableMediaTypes().stream()
        .anyMatch(m -> m.getType().equals("text") && m.getSubtype().equals("event-stream"));
  }

  /** Asks and waits for the final answer; every other outcome is a problem. */
  static AskService.AskResult ask(FleetController c, Checked q)
      throws FleetException, InterruptedException {
    AskService.AskResult r;
    try {
      r = c.ask().ask(node(q), q.question(), q.timeout());
    } catch (TimeoutException e) {
      throw timeout(q);
    } catch (AskService.NodeOfflineException e) {
      throw wentOffline(q, e.getMessage());
    } catch (AskService.TooManyQuestionsException e) {
      throw tooMany(e);
    } catch (IllegalStateException e) {
      throw new FleetUnavailableException(
          FleetUnavailableException.MQTT_UNAVAILABLE, e.getMessage(), 5000L, null);
    }
    if (r.error() != null) {
      throw nodeError(q.node().nodeId(), r.error());
    }
    return r;
  }

  /** Opens the question and returns the response that streams its replies. */
  static Response stream(FleetController c, Checked q, String path) throws FleetException {
    AskService.Exchange x;
    try {
      x = c.ask().open(node(q), q.question(), q.timeout());
    } catch (AskService.TooManyQuestionsException e) {
      throw tooMany(e);
    }
    StreamingOutput body = out -> relay(x, q, path, out);
    return Response.ok(body, MediaType.valueOf(EVENT_STREAM))
        .header("Cache-Control", "no-cache")
        // nginx and similar proxies buffer responses unless told otherwise.
        .header("X-Accel-Buffering", "no")
        .build();
  }

  private static void relay(AskService.Exchange x, Checked q, String path, OutputStream out)
      throws IOException {
    try (x) {
      Map<String, Object> start = new LinkedHashMap<>();
      start.put("id", x.id());
      start.put("node", q.node().nodeId());
      start.put("deadline", x.deadline().toString());
      event(out, "question", Json.write(start));
      while (true) {
        Reply r;
        try {
          r = x.next(Instant.now().plusSeconds(KEEP_ALIVE_SECONDS));
        } catch (IllegalStateException e) {
          problem(
              out,
              new FleetUnavailableException(
                  FleetUnavailableException.MQTT_UNAVAILABLE, e.getMessage(), 5000L, null),
              path);
          return;
        }
        switch (r) {
          case null -> {
            if (x.offlineReason() != null) {
              problem(out, wentOffline(q, x.offlineReason()), path);
              return;
            }
            if (x.expired()) {
              problem(out, timeout(q), path);
              return;
            }
            out.write(": waiting\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
          case AnswerPart p -> event(out, "part", Json.write(p));
          case Answer a -> {
            AskService.Gap gap = x.gap();
            if (!gap.isEmpty()) {
              Map<String, Object> g = new LinkedHashMap<>();
              g.put("missing", gap.missing());
              g.put("missingCount", gap.count());
              g.put("parts", a.parts());
              event(out, "gap", Json.write(g));
            }
            event(out, "answer", Json.write(a));
            return;
          }
          case ErrorReply e -> {
            problem(out, nodeError(q.node().nodeId(), e), path);
            return;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void problem(OutputStream out, FleetUnavailableException e, String path)
      throws IOException {
    event(out, "problem", Json.write(Problem.of(e, path)));
  }

  private static void event(OutputStream out, String name, byte[] json) throws IOException {
    // Compact JSON has no line breaks (they are escaped inside strings), so one data line.
    out.write(("event: " + name + "\ndata: ").getBytes(StandardCharsets.US_ASCII));
    out.write(json);
    out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private static io.edgeslm.protocol.NodeTopics node(Checked q) {
    return Topics.node(q.node().site(), q.node().nodeId());
  }

  static FleetUnavailableException timeout(Checked q) {
    return new FleetUnavailableException(
        FleetUnavailableException.NODE_TIMEOUT,
        "Node '"
            + q.node().nodeId()
            + "' did not answer within "
            + q.timeout().toSeconds()
            + " s (status "
            + q.node().status()
            + "). Check that it is online, or ask again with a longer timeoutSeconds.",
        null,
        null);
  }

  static FleetUnavailableException wentOffline(Checked q, String reason) {
    return new FleetUnavailableException(
        FleetUnavailableException.NODE_OFFLINE,
        "Node '"
            + q.node().nodeId()
            + "' went offline ("
            + reason
            + ") before it answered. Ask again when it is back online.",
        null,
        null);
  }

  static FleetUnavailableException tooMany(AskService.TooManyQuestionsException e) {
    return new FleetUnavailableException(
        FleetUnavailableException.BUSY, e.getMessage(), 2000L, null);
  }

  static FleetUnavailableException nodeError(String nodeId, ErrorReply e) {
    boolean busy = e.code() == ErrorCode.BUSY;
    return new FleetUnavailableException(
        busy ? FleetUnavailableException.NODE_BUSY : FleetUnavailableException.NODE_ERROR,
        "Node '"
            + nodeId
            + "' "
            + (busy ? "is busy" : "could not answer")
            + " ("
            + e.code().wireName()
            + "): "
            + (e.message() == null ? "no reason given" : e.message())
            + (busy ? " Ask again after " + e.retryAfterMs() + " ms." : ""),
        e.retryAfterMs(),
        e.code().wireName());
  }
}
