package io.edgeslm.fleet.sim;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.AnswerPart;
import io.edgeslm.protocol.AnswerTimings;
import io.edgeslm.protocol.ErrorReply;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Question;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateCommand;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * The node agent's side of the Q&A contract (docs/asyncapi.yaml, channels {@code ask} and {@code
 * askReply}), driven by the test: it subscribes to the node's {@code ask} topic with its own MQTT 5
 * connection and queues every question; the test takes one with {@link #nextQuestion} and answers
 * it part by part on the question's Response Topic, echoing its Correlation Data and id, exactly as
 * the agent does. The test decides when each reply goes out, so ordering is checked without timing.
 * It also queues the update commands sent to the node ({@link #nextCommand}), for tests of commands
 * that need no install behind them.
 */
public final class QuestionResponder implements AutoCloseable {

  /** A received question and its reply path. */
  public final class Incoming {
    private final Question question;
    private final String responseTopic;
    private final byte[] correlation;
    private int seq;

    Incoming(Question question, String responseTopic, byte[] correlation) {
      this.question = question;
      this.responseTopic = responseTopic;
      this.correlation = correlation;
    }

    public Question question() {
      return question;
    }

    public String responseTopic() {
      return responseTopic;
    }

    /** Publishes the next streamed part. */
    public Incoming part(String text) throws MqttException {
      reply(AnswerPart.of(question.id(), seq++, text));
      return this;
    }

    /** Counts a part as sent without publishing it: a part lost on the way. */
    public Incoming lose(String text) {
      seq++;
      return this;
    }

    /** Publishes the final rule-based answer with the count of parts sent for it. */
    public void answerOfParts(String text) throws MqttException {
      reply(
          new Answer(
              Protocol.SCHEMA_VERSION,
              question.id(),
              text,
              List.<SensorCitation>of(),
              Source.RULES,
              null,
              new AnswerTimings(3, null, 42, 0),
              Instant.now(),
              seq));
    }

    /** Publishes the final rule-based answer. */
    public void answer(String text) throws MqttException {
      reply(
          new Answer(
              Protocol.SCHEMA_VERSION,
              question.id(),
              text,
              List.<SensorCitation>of(),
              Source.RULES,
              null,
              new AnswerTimings(3, null, 42, 0),
              Instant.now()));
    }

    /** Publishes an error reply with {@code code}. */
    public void error(io.edgeslm.protocol.ErrorCode code, String message) throws MqttException {
      reply(ErrorReply.of(question.id(), code, message));
    }

    /** Publishes {@code busy}. */
    public void busy(long retryAfterMs) throws MqttException {
      reply(
          ErrorReply.busy(question.id(), "The question queue is full (8 waiting).", retryAfterMs));
    }

    private void reply(Object r) throws MqttException {
      MqttMessage m = new MqttMessage(Json.write(r));
      m.setQos(1);
      MqttProperties p = new MqttProperties();
      p.setCorrelationData(correlation);
      p.setContentType("application/json");
      m.setProperties(p);
      client.publish(responseTopic, m).waitForCompletion(10_000);
    }
  }

  private final NodeTopics topics;
  private final MqttAsyncClient client;
  private final BlockingQueue<Incoming> questions = new LinkedBlockingQueue<>();
  private final BlockingQueue<UpdateCommand> commands = new LinkedBlockingQueue<>();

  public QuestionResponder(String brokerUri, String site, String node) throws MqttException {
    this.topics = Topics.node(site, node);
    this.client = new MqttAsyncClient(brokerUri, "responder-" + node, new MemoryPersistence());
    client.setCallback(new Callback());
  }

  /**
   * Connects with the agent's last will (retained offline status, no delay), subscribes to the ask
   * topic and publishes the node's retained online status.
   */
  public QuestionResponder connect() throws MqttException {
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(true);
    MqttMessage will = new MqttMessage(Json.write(NodeStatus.will()));
    will.setQos(1);
    will.setRetained(true);
    o.setWill(topics.status(), will);
    MqttProperties willProps = new MqttProperties();
    willProps.setWillDelayInterval(0L);
    o.setWillMessageProperties(willProps);
    client.connect(o).waitForCompletion(10_000);
    client.subscribe(topics.ask(), 1).waitForCompletion(10_000);
    client.subscribe(topics.updateCommand(), 1).waitForCompletion(10_000);
    MqttMessage online = new MqttMessage(Json.write(NodeStatus.online(Instant.now())));
    online.setQos(1);
    online.setRetained(true);
    client.publish(topics.status(), online).waitForCompletion(10_000);
    return this;
  }

  /** The next question received, waiting up to {@code timeout}; fails if none came. */
  public Incoming nextQuestion(Duration timeout) throws InterruptedException {
    Incoming q = questions.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (q == null) {
      throw new AssertionError(
          "no question reached " + topics.ask() + " within " + timeout.toSeconds() + " s");
    }
    return q;
  }

  /** The next update command received (e.g. a rollback), waiting up to {@code timeout}. */
  public UpdateCommand nextCommand(Duration timeout) throws InterruptedException {
    UpdateCommand c = commands.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (c == null) {
      throw new AssertionError(
          "no command reached " + topics.updateCommand() + " within " + timeout.toSeconds() + " s");
    }
    return c;
  }

  /** Drops the connection without DISCONNECT, so the broker publishes the will. */
  public void crash() throws MqttException {
    client.disconnectForcibly(0, 1000, false);
  }

  private final class Callback implements MqttCallback {
    @Override
    public void messageArrived(String topic, MqttMessage message) throws Exception {
      if (topic.equals(topics.updateCommand())) {
        commands.add(Json.read(message.getPayload(), UpdateCommand.class));
        return;
      }
      Question q = Json.read(message.getPayload(), Question.class, Question.MAX_PAYLOAD_BYTES);
      MqttProperties p = message.getProperties();
      questions.add(
          new Incoming(
              q,
              p == null ? null : p.getResponseTopic(),
              p == null ? null : p.getCorrelationData()));
    }

    @Override
    public void disconnected(MqttDisconnectResponse r) {}

    @Override
    public void mqttErrorOccurred(MqttException e) {}

    @Override
    public void deliveryComplete(IMqttToken t) {}

    @Override
    public void connectComplete(boolean reconnect, String uri) {}

    @Override
    public void authPacketArrived(int code, MqttProperties p) {}
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        client.disconnect().waitForCompletion(5000);
      }
      client.close(true);
    } catch (MqttException e) {
      // closing anyway
    }
  }
}
