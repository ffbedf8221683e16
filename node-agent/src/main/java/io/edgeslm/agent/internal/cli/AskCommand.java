package io.edgeslm.agent.internal.cli;

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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * {@code ./run-agent ask "question"}: asks a node over MQTT 5 from plain Java, for machines without
 * the mosquitto clients. Streams the answer as it is generated, then prints the final answer with
 * the sensor values it cites. Exit codes: 0 answered, 1 error reply, 2 no reply in time, 3 usage or
 * connection problem.
 *
 * <pre>
 * java -cp 'quarkus-app/app/*:quarkus-app/lib/main/*' io.edgeslm.agent.internal.cli.AskCommand \
 *     --broker tcp://127.0.0.1:1883 --topic edge/v1/demo/node/ask [--timeout 60] "question"
 * </pre>
 */
public final class AskCommand {

  private AskCommand() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    String broker = "tcp://127.0.0.1:1883";
    String topic = null;
    long timeoutSeconds = 60;
    boolean raw = false;
    List<String> words = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--broker" -> broker = value(args, ++i, a);
        case "--topic" -> topic = value(args, ++i, a);
        case "--timeout" -> timeoutSeconds = Long.parseLong(value(args, ++i, a));
        case "--json" -> raw = true;
        default -> words.add(a);
      }
    }
    if (topic == null || words.isEmpty()) {
      err.println(
          "Usage: ask --broker tcp://host:port --topic edge/v1/{site}/{node}/ask [--timeout s]"
              + " [--json] \"your question\"");
      return 3;
    }
    String text = String.join(" ", words);
    String replyTopic = "operator/answers/" + UUID.randomUUID();
    byte[] correlation = HexFormat.of().parseHex(UUID.randomUUID().toString().replace("-", ""));
    BlockingQueue<byte[]> replies = new LinkedBlockingQueue<>();
    MqttAsyncClient client;
    try {
      client =
          new MqttAsyncClient(
              broker,
              "ask-" + UUID.randomUUID().toString().substring(0, 8),
              new MemoryPersistence());
      client.setCallback(new Collector(replies));
      MqttConnectionOptions o = new MqttConnectionOptions();
      o.setCleanStart(true);
      o.setConnectionTimeout(10);
      client.connect(o).waitForCompletion(15_000);
      client
          .subscribe(new MqttSubscription[] {new MqttSubscription(replyTopic, 1)})
          .waitForCompletion(10_000);
      Question q = new Question(Protocol.SCHEMA_VERSION, null, text, null, true, null);
      MqttMessage msg = new MqttMessage(Json.write(q));
      msg.setQos(1);
      MqttProperties p = new MqttProperties();
      p.setResponseTopic(replyTopic);
      p.setCorrelationData(correlation);
      p.setMessageExpiryInterval(timeoutSeconds);
      p.setContentType("application/json");
      msg.setProperties(p);
      client.publish(topic, msg).waitForCompletion(10_000);
    } catch (MqttException | IllegalArgumentException e) {
      err.println(
          "Cannot ask "
              + broker
              + ": "
              + e.getMessage()
              + ". Is the agent running? Start it with ./run-agent.");
      return 3;
    }
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
      boolean streamed = false;
      while (true) {
        long left = deadline - System.nanoTime();
        byte[] payload = left <= 0 ? null : replies.poll(left, TimeUnit.NANOSECONDS);
        if (payload == null) {
          err.println(
              "No answer within "
                  + timeoutSeconds
                  + " s on "
                  + topic
                  + ". Check the node id and site in the topic, and that the agent is running.");
          return 2;
        }
        if (raw) {
          out.println(new String(payload, StandardCharsets.UTF_8));
        }
        Reply reply;
        try {
          reply = Json.read(payload, Reply.class);
        } catch (InvalidPayloadException e) {
          err.println("Unreadable reply: " + e.getMessage());
          return 1;
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
              if (streamed) {
                out.println();
                out.println();
              } else {
                out.println(answer.answer());
              }
              printDetails(answer, out);
            }
            return 0;
          }
          case ErrorReply error -> {
            err.println(
                "Error ("
                    + error.code().wireName()
                    + "): "
                    + error.message()
                    + (error.retryAfterMs() == null
                        ? ""
                        : " Retry after " + error.retryAfterMs() + " ms."));
            return 1;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 2;
    } finally {
      try {
        client.disconnect().waitForCompletion(2000);
        client.close();
      } catch (MqttException e) {
        // exiting anyway
      }
    }
  }

  private static void printDetails(Answer a, PrintStream out) {
    String who =
        a.model() == null
            ? "rules"
            : "model " + a.model().name() + " v" + a.model().version() + " " + a.model().digest();
    out.println("  source: " + who);
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

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  /** Queues every received payload. */
  private record Collector(BlockingQueue<byte[]> into) implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse response) {}

    @Override
    public void mqttErrorOccurred(MqttException exception) {}

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      into.add(message.getPayload());
    }

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String serverUri) {}

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }
}
