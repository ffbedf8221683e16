package io.edgeslm.agent.it;

import static io.edgeslm.agent.it.TwoBrokersResource.NODE;
import static io.edgeslm.agent.it.TwoBrokersResource.OIL_TOPIC;
import static io.edgeslm.agent.it.TwoBrokersResource.SITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.lifecycle.AgentRuntime;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Topics;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The agent with a local plant broker and a fleet broker: the fleet's topics go to the fleet broker
 * only; with the fleet broker down, questions on the local broker are still answered, health and
 * reports wait in the journal, and they reach the fleet broker in journal order once it is back.
 */
@QuarkusTest
@WithTestResource(TwoBrokersResource.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalAndFleetBrokersIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final NodeTopics T = Topics.node(SITE, NODE);
  private static final String ALL = "edge/v1/" + SITE + "/" + NODE + "/#";

  @Inject AgentRuntime runtime;

  private static String localUrl() {
    return TwoBrokersResource.local.url();
  }

  private static String fleetUrl() {
    return TwoBrokersResource.fleet.url();
  }

  private void awaitBothConnected() {
    await().atMost(WAIT).until(() -> runtime.isBrokerConnected() && runtime.isFleetConnected());
  }

  @Test
  @Order(1)
  void birthStatusAndHealth_goToTheFleetBrokerOnly() throws Exception {
    awaitBothConnected();
    try (TestMqttClient onFleet = TestMqttClient.connect(fleetUrl());
        TestMqttClient onLocal = TestMqttClient.connect(localUrl())) {
      onLocal.subscribe(ALL);
      onFleet.subscribe(T.status());
      onFleet.subscribe(T.birth());
      onFleet.subscribe(T.health());
      NodeStatus status = Json.read(onFleet.next(T.status(), WAIT).payload(), NodeStatus.class);
      assertThat(status.state()).isEqualTo(NodeState.ONLINE);
      onFleet.next(T.birth(), WAIT);
      // Three health messages on the fleet broker: by then any on the local one would be there,
      // and a retained status or birth would have come on subscribing.
      for (int i = 0; i < 3; i++) {
        onFleet.next(T.health(), WAIT);
      }
      assertThat(onLocal.drain(ALL))
          .as("messages on the local broker under the node's topics")
          .isEmpty();
    }
  }

  @Test
  @Order(2)
  void fleetBrokerDown_questionsAnswered_healthAndReportsJournaled_replayedInOrderWhenItReturns()
      throws Exception {
    awaitBothConnected();
    // The fleet's watcher has a persistent session on the fleet broker (which persists sessions
    // across its restart): what the agent sends after the restart waits there for the watcher.
    List<TestMqttClient.Received> seen = new ArrayList<>();
    try (TestMqttClient watcher = TestMqttClient.connect(fleetUrl(), "fleet-watcher", false)) {
      watcher.subscribe(ALL);
      await()
          .atMost(WAIT)
          .until(
              () -> {
                seen.addAll(watcher.drain(ALL));
                return seen.stream().filter(r -> r.topic().equals(T.health())).count() >= 2;
              });
    }
    try (TestMqttClient plant = TestMqttClient.connect(localUrl())) {
      plant.publish(OIL_TOPIC, "61.4");
      plant.subscribe(T.report());
      plant.subscribe("operator/two/answers");

      TwoBrokersResource.fleet.stop();
      await().atMost(WAIT).until(() -> !runtime.isFleetConnected());
      long lastBeforeOutage = runtime.journal().orElseThrow().lastSeq();

      // The plant floor keeps working on its own broker.
      assertThat(runtime.isBrokerConnected()).isTrue();
      assertThat(runtime.notReadyReason()).isEmpty();
      java.net.http.HttpResponse<String> ready =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create(
                              "http://127.0.0.1:"
                                  + TwoBrokersResource.managementPort
                                  + "/q/health/ready"))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      assertThat(ready.body()).contains("\"fleetConnected\": false");
      plant.publish(
          T.ask(),
          "{\"id\":\"offline-1\",\"replyTo\":\"operator/two/answers\","
              + "\"question\":\"What is the oil temperature of press 3?\"}");
      Reply reply = Json.read(plant.next("operator/two/answers", WAIT).payload(), Reply.class);
      assertThat(reply.id()).isEqualTo("offline-1");
      assertThat(((Answer) reply).answer())
          .startsWith("Press 3 oil temperature is 61.4 °C, normal 40–80");

      // An anomaly: its report goes live to the local broker and into the journal for the fleet.
      plant.publish(OIL_TOPIC, "97.5");
      TestMqttClient.Received live = plant.next(T.report(), WAIT);
      assertThat(Json.read(live.payload(), SensorReport.class).content().anomalies()).isNotEmpty();
      assertThat(live.props())
          .as("the live copy is not the journal's")
          .doesNotContainKey("journal-seq");
      await().atMost(WAIT).until(() -> runtime.journal().orElseThrow().size() >= 4);
      long lastOffline = runtime.journal().orElseThrow().lastSeq();
      assertThat(lastOffline).isGreaterThan(lastBeforeOutage);

      TwoBrokersResource.fleet.start();
      await().atMost(WAIT).until(runtime::isFleetConnected);
      await().atMost(WAIT).until(() -> runtime.journal().orElseThrow().size() == 0);
      long target = runtime.journal().orElseThrow().lastSeq();
      try (TestMqttClient watcher = TestMqttClient.connect(fleetUrl(), "fleet-watcher", false)) {
        await()
            .atMost(WAIT)
            .until(
                () -> {
                  seen.addAll(watcher.drainAll());
                  return seen.stream()
                      .anyMatch(r -> r.props().containsKey("journal-seq") && seq(r) >= target);
                });
      }

      List<TestMqttClient.Received> journaled =
          seen.stream().filter(r -> r.props().containsKey("journal-seq")).toList();
      List<Long> seqs = journaled.stream().map(LocalAndFleetBrokersIT::seq).toList();
      List<Long> expected = new ArrayList<>();
      for (long s = seqs.getFirst(); s <= seqs.getLast(); s++) {
        expected.add(s);
      }
      assertThat(seqs).as("journal sequence numbers in arrival order").isEqualTo(expected);
      assertThat(seqs).contains(lastOffline);
      assertThat(journaled)
          .as("a report written while the fleet broker was down")
          .anySatisfy(
              r -> {
                assertThat(r.topic()).isEqualTo(T.report());
                assertThat(seq(r)).isGreaterThan(lastBeforeOutage);
                assertThat(Json.read(r.payload(), SensorReport.class).content().anomalies())
                    .isNotEmpty();
              });
      assertThat(journaled)
          .filteredOn(r -> r.topic().equals(T.health()) && seq(r) > lastBeforeOutage)
          .as("health written while the fleet broker was down")
          .hasSizeGreaterThanOrEqualTo(2)
          .allSatisfy(
              r ->
                  assertThat(Json.read(r.payload(), NodeHealth.class).intervalSeconds())
                      .isPositive());
      // Back online on the fleet broker, with a fresh status.
      assertThat(seen)
          .filteredOn(r -> r.topic().equals(T.status()))
          .last()
          .satisfies(
              r ->
                  assertThat(Json.read(r.payload(), NodeStatus.class).state())
                      .isEqualTo(NodeState.ONLINE));
    } finally {
      if (!runtime.isFleetConnected()) {
        try {
          TwoBrokersResource.fleet.start();
        } catch (RuntimeException | io.edgeslm.testkit.HarnessUnavailableException e) {
          // already running
        }
      }
    }
  }

  @Test
  @Order(3)
  void questionOnTheFleetBroker_answeredOnTheFleetBroker() throws Exception {
    awaitBothConnected();
    try (TestMqttClient onFleet = TestMqttClient.connect(fleetUrl());
        TestMqttClient onLocal = TestMqttClient.connect(localUrl())) {
      onFleet.subscribe("operator/fleet/answers");
      onLocal.subscribe("operator/fleet/answers");
      onFleet.publish(
          T.ask(),
          "{\"id\":\"from-fleet\",\"replyTo\":\"operator/fleet/answers\","
              + "\"question\":\"What is the oil temperature of press 3?\"}");
      Reply reply = Json.read(onFleet.next("operator/fleet/answers", WAIT).payload(), Reply.class);
      assertThat(reply.id()).isEqualTo("from-fleet");
      assertThat(reply).isInstanceOf(Answer.class);
      // A question on the local broker now: its answer, on the local broker, comes after any
      // stray copy of the first one would have.
      onLocal.publish(
          T.ask(),
          "{\"id\":\"from-plant\",\"replyTo\":\"operator/fleet/answers\","
              + "\"question\":\"What is the oil temperature of press 3?\"}");
      assertThat(
              Json.read(onLocal.next("operator/fleet/answers", WAIT).payload(), Reply.class).id())
          .isEqualTo("from-plant");
      assertThat(onLocal.drain("operator/fleet/answers")).isEmpty();
      assertThat(onFleet.drain("operator/fleet/answers")).isEmpty();
    }
  }

  private static long seq(TestMqttClient.Received r) {
    return Long.parseLong(r.props().get("journal-seq"));
  }
}
