package io.edgeslm.agent.it;

import static io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads.aliasMetric;
import static io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads.bdSeq;
import static io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads.birthMetric;
import static io.edgeslm.agent.internal.sensor.sparkplug.TahuPayloads.encode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.SensorCitation;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.tahu.message.SparkplugBPayloadDecoder;
import org.eclipse.tahu.message.model.Metric;
import org.eclipse.tahu.message.model.MetricDataType;
import org.eclipse.tahu.message.model.SparkplugBPayload;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plant data as plants publish it, through the packaged agent and a private Mosquitto: a Sparkplug
 * B edge node whose payloads Eclipse Tahu's own builder and encoder make, and a Unified Namespace
 * publisher of JSON values. The operator's answer cites the metric's value, unit and age; a
 * sequence gap and a death certificate make it stale (and a rebirth request arrives on the broker);
 * malformed payloads are refused and counted on the metrics endpoint.
 */
class PlantDataIT {

  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final String OIL = "plant7/line1/press3/Hydraulics/Oil Temperature";
  private static MqttBroker broker;

  @TempDir Path work;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = MqttBroker.privateMosquitto(MosquittoConfig.defaults());
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  private record Started(AgentProcess agent, int managementPort, NodeTopics topics) {}

  /** Starts the packaged agent with {@code properties} in the file named by EDGESLM_CONFIG. */
  private Started start(String node, String properties, TestMqttClient c) throws Exception {
    Path file = work.resolve(node + ".properties");
    Files.writeString(file, properties, StandardCharsets.UTF_8);
    int port = AgentProcess.freePort();
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_URL", broker.url());
    env.put("EDGESLM_AGENT_SITE", "plant");
    env.put("EDGESLM_AGENT_NODE_ID", node);
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(port));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal-" + node).toString());
    env.put("EDGESLM_CONFIG", file.toString());
    NodeTopics t = Topics.node("plant", node);
    c.subscribe(t.status());
    AgentProcess agent = AgentProcess.start(env, work);
    // Online is published after every subscription is in place, so nothing sent later is missed.
    NodeStatus s = Json.read(c.next(t.status(), WAIT).payload(), NodeStatus.class);
    assertThat(s.state()).as(agent.output()).isEqualTo(NodeState.ONLINE);
    return new Started(agent, port, t);
  }

  private static Answer ask(TestMqttClient c, Started s, String question) throws Exception {
    c.ask(
        s.topics().ask(),
        ("{\"question\":\"" + question + "\"}").getBytes(StandardCharsets.UTF_8),
        "operator/plant-answers",
        new byte[] {7},
        60L);
    Reply r = Json.read(c.next("operator/plant-answers", WAIT).payload(), Reply.class);
    assertThat(r).as(s.agent().output()).isInstanceOf(Answer.class);
    return (Answer) r;
  }

  private static String metrics(int port) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }

  @Test
  void sparkplugMetric_answeredWithValueUnitAge_thenSeqGapAndDeathMakeItStale() throws Exception {
    try (TestMqttClient c = TestMqttClient.connect(broker.url())) {
      c.subscribe("operator/plant-answers");
      c.subscribe("spBv1.0/plant7/NCMD/line1");
      Started s =
          start(
              "sp-node",
              "edgeslm.agent.sparkplug.groups=plant7\nedgeslm.agent.demo.simulator=off\n",
              c);
      try (AgentProcess agent = s.agent()) {
        Date fiveSecondsAgo = Date.from(Instant.now().minusSeconds(5));
        c.publish("spBv1.0/plant7/NBIRTH/line1", encode(0L, List.of(bdSeq(1))));
        c.publish(
            "spBv1.0/plant7/DBIRTH/line1/press3",
            encode(
                1L,
                List.of(
                    birthMetric(
                        "Hydraulics/Oil Temperature",
                        7,
                        MetricDataType.Float,
                        61.5f,
                        "°C",
                        40.0,
                        80.0),
                    birthMetric("Strokes", 8, MetricDataType.UInt32, 1200L, null, null, null))));
        c.publish(
            "spBv1.0/plant7/DDATA/line1/press3",
            encode(2L, List.of(aliasMetric(7, MetricDataType.Float, 72.5f, fiveSecondsAgo))));

        Answer a = ask(c, s, "What is the oil temperature of press 3?");
        assertThat(a.answer())
            .as(agent.output())
            .startsWith("press3 Hydraulics/Oil Temperature is 72.5 °C, normal 40–80, read ")
            .endsWith(" ago.");
        SensorCitation cited = a.sensors().getFirst();
        assertThat(cited.sensor()).isEqualTo(OIL);
        assertThat(cited.value()).isEqualTo(72.5);
        assertThat(cited.unit()).isEqualTo("°C");
        assertThat(cited.ageMs()).isBetween(5_000L, 60_000L);
        assertThat(cited.stale()).isNull();

        // seq 3 and 4 never arrive.
        c.publish(
            "spBv1.0/plant7/DDATA/line1/press3",
            encode(5L, List.of(aliasMetric(8, MetricDataType.UInt32, 1300L))));
        TestMqttClient.Received ncmd = c.next("spBv1.0/plant7/NCMD/line1", WAIT);
        SparkplugBPayload rebirth =
            new SparkplugBPayloadDecoder().buildFromByteArray(ncmd.payload(), null);
        Metric m = rebirth.getMetrics().getFirst();
        assertThat(m.getName()).isEqualTo("Node Control/Rebirth");
        assertThat(m.getValue()).isEqualTo(true);

        Answer stale = ask(c, s, "What is the oil temperature of press 3?");
        // "press 3" also names press3 Strokes, which the gap message itself updated: current.
        assertThat(stale.answer())
            .containsPattern(
                "^press3 Hydraulics/Oil Temperature was 72\\.5 °C, normal 40–80, read [^;]+ ago;"
                    + " stale: messages from edge node line1 were lost \\(seq gap\\)\\."
                    + " press3 Strokes is 1300, read [^;]+ ago\\.$");
        assertThat(stale.sensors().getFirst().stale()).isTrue();

        c.publish("spBv1.0/plant7/NDEATH/line1", encode(null, List.of(bdSeq(1))));
        Answer dead = ask(c, s, "What is the oil temperature of press 3?");
        assertThat(dead.answer())
            .containsPattern(
                "^press3 Hydraulics/Oil Temperature was 72\\.5 °C, normal 40–80, read [^;]+ ago;"
                    + " stale: edge node line1 went offline \\(NDEATH\\)\\."
                    + " press3 Strokes was 1300, read [^;]+ ago;"
                    + " stale: edge node line1 went offline \\(NDEATH\\)\\.$");
        assertThat(dead.sensors()).allSatisfy(x -> assertThat(x.stale()).isTrue());

        c.publish("spBv1.0/plant7/DDATA/line1/press3", new byte[] {(byte) 0xff, 0x00, 0x13});
        await()
            .atMost(WAIT)
            .untilAsserted(
                () ->
                    assertThat(metrics(s.managementPort()))
                        .contains("edgeslm_agent_sparkplug_refused_total 1.0")
                        .contains("edgeslm_agent_sparkplug_rebirths_total 1.0"));
        assertThat(agent.isAlive()).isTrue();
      }
    }
  }

  @Test
  void unsJsonTopic_answeredWithValueUnitAge_malformedRefusedAndCounted() throws Exception {
    try (TestMqttClient c = TestMqttClient.connect(broker.url())) {
      c.subscribe("operator/plant-answers");
      Started s =
          start(
              "uns-node",
              String.join(
                  "\n",
                  "edgeslm.agent.demo.simulator=off",
                  "edgeslm.agent.uns.patterns.line.topic=acme/+site/+line/+machine/+metric",
                  "edgeslm.agent.uns.patterns.line.sensor-id={site}.{machine}.{metric}",
                  "edgeslm.agent.uns.patterns.line.alias={machine} {metric}",
                  "edgeslm.agent.uns.patterns.oil.topic=acme/+site/+line/press3/oil_temp",
                  "edgeslm.agent.uns.patterns.oil.sensor-id={site}.press3.oil_temp",
                  "edgeslm.agent.uns.patterns.oil.alias=Press 3 oil temperature",
                  "edgeslm.agent.uns.patterns.oil.unit=°C",
                  "edgeslm.agent.uns.patterns.oil.normal-min=40",
                  "edgeslm.agent.uns.patterns.oil.normal-max=80",
                  "edgeslm.agent.uns.patterns.oil.value-pointer=/data/v",
                  ""),
              c);
      try (AgentProcess agent = s.agent()) {
        String ts = Instant.now().minusSeconds(5).toString();
        c.publish(
            "acme/p7/line1/press3/hydraulic_pressure",
            "{\"value\":182.5,\"unit\":\"bar\",\"timestamp\":\"" + ts + "\"}");
        c.publish("acme/p7/line1/press3/oil_temp", "{\"data\":{\"v\":83.5}}");

        Answer a = ask(c, s, "What is the hydraulic pressure of press 3?");
        assertThat(a.answer())
            .as(agent.output())
            .startsWith("press3 hydraulic_pressure is 182.5 bar, read ")
            .endsWith(" ago.");
        SensorCitation cited = a.sensors().getFirst();
        assertThat(cited.sensor()).isEqualTo("p7.press3.hydraulic_pressure");
        assertThat(cited.unit()).isEqualTo("bar");
        assertThat(cited.ageMs()).isBetween(5_000L, 60_000L);

        Answer oil = ask(c, s, "What is the oil temperature of press 3?");
        assertThat(oil.answer())
            .startsWith("Press 3 oil temperature is 83.5 °C, normal 40–80 (above range), read ");
        assertThat(oil.sensors().getFirst().sensor()).isEqualTo("p7.press3.oil_temp");

        c.publish("acme/p7/line1/press3/hydraulic_pressure", "{\"value\":\"high\"}");
        c.publish("acme/p7/line1/press3/hydraulic_pressure", "not json");
        await()
            .atMost(WAIT)
            .untilAsserted(
                () ->
                    assertThat(metrics(s.managementPort()))
                        .contains("edgeslm_agent_uns_refused_total 2.0")
                        .contains("edgeslm_agent_uns_values_total 2.0"));
        assertThat(agent.isAlive()).isTrue();
      }
    }
  }

  @Test
  void badSparkplugGroup_stopsTheAgentWithExit78NamingKeyAndValue() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_URL", broker.url());
    env.put("EDGESLM_AGENT_SPARKPLUG_GROUPS", "plant/7");
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal-bad").toString());
    try (AgentProcess agent = AgentProcess.start(env, work)) {
      assertThat(agent.waitFor(WAIT)).as(agent.output()).isEqualTo(78);
      assertThat(agent.output())
          .contains(
              "The EdgeSLM node agent cannot start: Invalid configuration"
                  + " edgeslm.agent.sparkplug.groups='plant/7': expected Sparkplug Group IDs: 1-64"
                  + " characters each, no '/', '+', '#', spaces or leading '$' (comma-separated)."
                  + " Fix it in application.properties, the file named by EDGESLM_CONFIG, or the"
                  + " environment variable EDGESLM_AGENT_SPARKPLUG_GROUPS.");
    }
  }
}
