package io.edgeslm.agent.internal.cli;

import io.edgeslm.mqtt.Backoff;
import io.edgeslm.mqtt.Message;
import io.edgeslm.mqtt.MqttConfigurationException;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttSettings;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.SensorCitation;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code ./run-agent ask "question"}: asks a node over MQTT 5 from plain Java, for machines without
 * the mosquitto clients. Streams the answer as it is generated, then prints the final answer with
 * the sensor values it cites. Exit codes: 0 answered, 1 the node answered with an error, 2 usage
 * error, 3 cannot reach the broker, 4 no answer in time.
 *
 * <pre>
 * java -cp 'quarkus-app/app/*:quarkus-app/lib/main/*' io.edgeslm.agent.internal.cli.AskCommand \
 *     --broker tcp://127.0.0.1:1883 --topic edge/v1/demo/node/ask [--timeout 60] "question"
 * </pre>
 */
public final class AskCommand {

  static final int ANSWERED = 0;
  static final int ERROR_REPLY = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;
  static final int NO_ANSWER = 4;

  /** How long connecting and the question's PUBACK may take. */
  private static final Duration CONNECT_WAIT = Duration.ofSeconds(10);

  static final String USAGE_TEXT =
      """
      Usage: ./run-agent ask [--timeout SECONDS] [--json] "question"
      Asks the agent ./run-agent started (found through its run-info file) and prints the answer,
      streamed as it is generated, then the sensor values it cites and its timings.
        --timeout SECONDS  how long to wait for the answer, 1-3600 (default 60)
        --json             print the node's replies as they arrive, as JSON
        -h, --help         print this help and exit
      Exit codes: 0 answered, 1 the node answered with an error, 2 usage error,
      3 no running agent or its broker cannot be reached, 4 no answer in time.
      """;

  /**
   * Checks the command line and exits (0, or 2 with the usage error) without connecting: {@code
   * ./run-agent} runs this when no agent is running, so that a mistake in the command line is
   * reported as one (exit 2) before "no running agent" (exit 3). Not in the usage text.
   */
  static final String CHECK_ONLY = "--check-only";

  private AskCommand() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** A user's mistake in the command line: one sentence, exit code 2. */
  private static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    String broker = "tcp://127.0.0.1:1883";
    String topic = null;
    long timeoutSeconds = 60;
    boolean raw = false;
    boolean checkOnly = false;
    List<String> words = new ArrayList<>();
    try {
      boolean options = true;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (!options || !a.startsWith("-")) {
          words.add(a);
          continue;
        }
        switch (a) {
          case "-h", "--help" -> {
            out.print(USAGE_TEXT);
            return ANSWERED;
          }
          case "--" -> options = false;
          case "--broker" -> broker = value(args, ++i, a);
          case "--topic" -> topic = value(args, ++i, a);
          case "--timeout" -> timeoutSeconds = seconds(value(args, ++i, a));
          case "--json" -> raw = true;
          case CHECK_ONLY -> checkOnly = true;
          default ->
              throw new UsageException("unknown option '" + a + "'; see ./run-agent ask --help.");
        }
      }
      if (topic == null && !checkOnly) {
        throw new UsageException(
            "--topic is missing (./run-agent reads it from the agent's run-info file).");
      }
      if (String.join(" ", words).isBlank()) {
        throw new UsageException(
            "the question is empty; ask for example: ./run-agent ask \"What is the oil temperature"
                + " of press 3?\"");
      }
    } catch (UsageException e) {
      err.println("run-agent ask: " + e.getMessage());
      return USAGE;
    }
    if (checkOnly) {
      return ANSWERED;
    }
    String text = String.join(" ", words);
    String replyTopic = "operator/answers/" + UUID.randomUUID();
    byte[] correlation = HexFormat.of().parseHex(UUID.randomUUID().toString().replace("-", ""));
    BlockingQueue<byte[]> replies = new LinkedBlockingQueue<>();
    MqttConnection client;
    try {
      client =
          MqttConnection.open(
              MqttSettings.builder(broker, "ask-" + UUID.randomUUID().toString().substring(0, 8))
                  .backoff(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(2)))
                  .build(),
              c -> c.subscribe(replyTopic, 1, m -> replies.add(m.payload())));
    } catch (MqttConfigurationException | IllegalArgumentException e) {
      err.println("run-agent ask: cannot use the broker address " + broker + ": " + e.getMessage());
      return UNREACHABLE;
    }
    try {
      if (!client.awaitConnected(CONNECT_WAIT)) {
        client.close();
        return unreachable(err, broker, client.lastError());
      }
      Question q = new Question(Protocol.SCHEMA_VERSION, null, text, null, true, null);
      client
          .publish(
              Message.of(topic, Json.write(q), 1, false)
                  .withResponse(replyTopic, correlation)
                  .withExpirySeconds(timeoutSeconds)
                  .withContentType("application/json"))
          .get(CONNECT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException | IllegalArgumentException e) {
      client.close();
      String why = e.getCause() == null ? e.toString() : e.getCause().getMessage();
      return unreachable(err, broker, why);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      client.close();
      return NO_ANSWER;
    }
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
      boolean streamed = false;
      while (true) {
        long left = deadline - System.nanoTime();
        byte[] payload = left <= 0 ? null : replies.poll(left, TimeUnit.NANOSECONDS);
        if (payload == null) {
          err.println(
              "run-agent ask: no answer within "
                  + timeoutSeconds
                  + " s on "
                  + topic
                  + "; check that the agent is still running (its console says why it is busy).");
          return NO_ANSWER;
        }
        if (raw) {
          out.println(new String(payload, StandardCharsets.UTF_8));
        }
        Reply reply;
        try {
          reply = Json.read(payload, Reply.class);
        } catch (InvalidPayloadException e) {
          err.println("run-agent ask: the node's reply is unreadable: " + e.getMessage());
          return ERROR_REPLY;
        }
        switch (reply) {
          case AnswerPart part -> {
            if (!raw) {
              out.print(part.text());
              out.flush();
              streamed = true;
            }
          }
          case Answer answer -> {
            if (!raw) {
              // The answer, then a blank line, then its details, streamed or not.
              out.println(streamed ? "" : answer.answer());
              out.println();
              printDetails(answer, out);
            }
            return ANSWERED;
          }
          case ErrorReply error -> {
            err.println(
                "run-agent ask: the node answered with an error ("
                    + error.code().wireName()
                    + "): "
                    + error.message()
                    + (error.retryAfterMs() == null
                        ? ""
                        : " Retry after " + error.retryAfterMs() + " ms."));
            return ERROR_REPLY;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return NO_ANSWER;
    } finally {
      client.close();
    }
  }

  private static int unreachable(PrintStream err, String broker, String why) {
    err.println(
        "run-agent ask: cannot reach the agent's broker at "
            + broker
            + " ("
            + why
            + "); is ./run-agent still running?");
    return UNREACHABLE;
  }

  private static void printDetails(Answer a, PrintStream out) {
    String who =
        a.model() == null
            ? "rules"
            : "model " + a.model().name() + " v" + a.model().version() + " " + a.model().digest();
    out.println("  source: " + who);
    if (a.answeredBy() != null && !a.answeredBy().equals("local")) {
      out.println("  answered by: " + a.answeredBy());
    }
    if (a.escalation() != null) {
      out.println(
          "  escalation: "
              + a.escalation().trigger()
              + " to "
              + a.escalation().target()
              + (a.escalation().note() == null ? "" : ": " + a.escalation().note()));
    }
    for (SensorCitation c : a.sensors()) {
      out.println(
          "  cited:  "
              + c.sensor()
              + " = "
              + c.value()
              + (c.unit() == null ? "" : " " + c.unit())
              + " ("
              + c.ageMs()
              + " ms old)");
    }
    out.println(
        "  timings: queue "
            + a.timings().queueMs()
            + " ms, first token "
            + (a.timings().firstTokenMs() == null ? "-" : a.timings().firstTokenMs() + " ms")
            + ", total "
            + a.timings().totalMs()
            + " ms, "
            + a.timings().tokens()
            + " tokens");
  }

  private static String value(String[] args, int i, String option) throws UsageException {
    if (i >= args.length) {
      throw new UsageException(option + " needs a value; see ./run-agent ask --help.");
    }
    return args[i];
  }

  private static long seconds(String text) throws UsageException {
    try {
      long s = Long.parseLong(text);
      if (s >= 1 && s <= 3600) {
        return s;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(
        "--timeout must be a whole number of seconds from 1 to 3600, got '" + text + "'.");
  }
}
