package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.agent.internal.update.UsbSideLoader;
import io.edgeslm.agent.update.TestBundles;
import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.JournalBatch;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.Reply;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdatePhase;
import io.edgeslm.protocol.UpdateProgress;
import io.edgeslm.protocol.UpdateResult;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.MqttBrokerExtension;
import io.edgeslm.testkit.bundles.BundleServer;
import io.edgeslm.testkit.bundles.Faults;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent as a process, with updates on, real Mosquitto and real llama.cpp workers on
 * the test kit's synthetic models: v1 is seeded from the configured bundle; v2 arrives over MQTT
 * from the test kit's bundle server and answers the next question; v3 fails its activation check
 * and is rolled back while v2 keeps answering; after a restart the agent serves v2 from its store
 * and replays its update journal; a USB stick brings v4; an ordered rollback returns to v2.
 */
class AgentUpdateIT {

  private static final Duration WAIT = Duration.ofSeconds(180);
  private static final String ANSWERS = "operator/upd/answers";

  /** Constrained output: even a noise model passes (as in ActivationGateIT). */
  static final String PASSING =
      """
      {"schemaVersion": 1, "minScore": 1.0, "cases": [
        {"id": "yes-no", "prompt": "Is the pump running? Answer yes or no:", "nPredict": 4,
         "grammar": "root ::= (\\"yes\\" | \\"no\\")", "expect": {"maxChars": 3}}]}
      """;

  /** A noise model cannot repeat a value: this check fails. */
  static final String FAILING =
      """
      {"schemaVersion": 1, "minScore": 1.0, "cases": [
        {"id": "mentions-value", "prompt": "Press 3 oil temperature is 71.2 C. Repeat the value:",
         "nPredict": 8, "expect": {"contains": ["71.2"]}}]}
      """;

  // A private broker: on the shared one, any other test's bundle server (they subscribe to every
  // node's update/request) answers this node's chunk requests with not_found.
  @RegisterExtension
  static final MqttBrokerExtension BROKER =
      MqttBrokerExtension.privateMosquitto(MosquittoConfig.defaults());

  @TempDir Path work;

  private Map<String, String> env(String node, Path v1, Path key, Path stick) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_URL", BROKER.broker().url());
    env.put("EDGESLM_AGENT_SITE", "upd");
    env.put("EDGESLM_AGENT_NODE_ID", node);
    env.put("EDGESLM_AGENT_DEVICE_CLASS", TestBundles.DEVICE_CLASS);
    env.put("EDGESLM_AGENT_BROKER_MAX_RECONNECT_DELAY", "1s");
    env.put("EDGESLM_AGENT_HEALTH_INTERVAL", "1s");
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(AgentProcess.freePort()));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal").toString());
    env.put("EDGESLM_AGENT_MODEL_PATH", v1.toString());
    // The current engine, as on a gateway; fails (exit 78, naming the build script) without it.
    env.put("EDGESLM_AGENT_MODEL_ENGINE", "llama-server");
    env.put("EDGESLM_AGENT_MODEL_NAME", TestBundles.MODEL);
    env.put("EDGESLM_AGENT_MODEL_THREADS", "2");
    env.put("EDGESLM_AGENT_MODEL_CONTEXT", "1024");
    env.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "40");
    // Fixed sampling so the synthetic models' (random-weight) answers are the same on every run
    // and not empty, as in AgentProcessIT.
    env.put("EDGESLM_AGENT_MODEL_TEMPERATURE", "0.8");
    env.put("EDGESLM_AGENT_MODEL_SEED", "1");
    env.put("EDGESLM_AGENT_REPORT_INTERVAL", "1h");
    env.put("EDGESLM_AGENT_UPDATES_PINNED_KEYS", key.toString());
    env.put("EDGESLM_AGENT_UPDATES_DATA_DIR", work.resolve("data").toString());
    env.put("EDGESLM_AGENT_UPDATES_USB_WATCH_DIR", stick.toString());
    env.put("EDGESLM_AGENT_UPDATES_USB_POLL_INTERVAL", "300ms");
    env.put("EDGESLM_AGENT_UPDATES_SOAK", "1s");
    env.put("EDGESLM_AGENT_UPDATES_SOAK_SAMPLE", "200ms");
    env.put("EDGESLM_AGENT_UPDATES_DISK_MARGIN_BYTES", "0");
    env.put("EDGESLM_AGENT_UPDATES_SWAP_MODE", "side-by-side");
    return env;
  }

  /**
   * With a plant broker and a fleet broker, the update travels on the fleet connection only
   * (assignment, chunk requests and chunks, progress and results), while the operator's question on
   * the plant broker is answered by the new model.
   */
  @Test
  void updateWithLocalAndFleetBrokers_travelsOnTheFleetConnection_answersOnTheLocalOne()
      throws Exception {
    TestBundles bundles = new TestBundles();
    Path key = work.resolve("release.pub");
    bundles.writePublicKey(key);
    Path v1 = bundles.bundle(work.resolve("bundles/v1"), TestBundles.Spec.version(1));
    Path v2 =
        bundles.bundle(work.resolve("bundles/v2"), TestBundles.Spec.version(2).evaluation(PASSING));
    ModelRef ref1 = bundles.ref(v1, 1);
    ModelRef ref2 = bundles.ref(v2, 2);
    Path stick = Files.createDirectories(work.resolve("stick"));

    String node = "split-" + UUID.randomUUID().toString().substring(0, 8);
    NodeTopics t = Topics.node("upd", node);
    Map<String, String> env = env(node, v1, key, stick);
    try (MqttBroker plant = MqttBroker.privateMosquitto()) {
      // BROKER is the fleet's broker here; the plant's own carries sensors and questions.
      env.put("EDGESLM_AGENT_BROKER_URL", plant.url());
      env.put("EDGESLM_AGENT_FLEET_BROKER_URL", BROKER.broker().url());
      env.put("EDGESLM_AGENT_FLEET_BROKER_MAX_RECONNECT_DELAY", "1s");
      try (TestMqttClient fleet = TestMqttClient.connect(BROKER.broker().url());
          TestMqttClient local = TestMqttClient.connect(plant.url());
          BundleServer server =
              BundleServer.start(BROKER.broker().url(), node + "-ctl", Faults.NONE)) {
        fleet.subscribe(t.birth());
        fleet.subscribe(t.updateResult());
        fleet.subscribe(t.updateProgress());
        local.subscribe(ANSWERS);
        String nodeTopics = "edge/v1/upd/" + node + "/#";
        local.subscribe(nodeTopics);

        AgentProcess agent = AgentProcess.start(env, work);
        try {
          awaitBirth(fleet, t, ref1, agent);
          assertAnsweredBy(local, t, ref1, agent);

          UpdateAssignment a2 =
              server.offer("as-v2", "bundle-v2", ref2, v2, UpdateAssignment.DEFAULT_CHUNK_BYTES, t);
          server.publishAssignment(t, a2);
          UpdateResult activated = awaitResult(fleet, t, "as-v2", UpdateOutcome.ACTIVATED, agent);
          assertThat(activated.activeModel()).isEqualTo(ref2);
          assertThat(server.chunksSent())
              .as("chunks served on the fleet broker")
              .isGreaterThanOrEqualTo(a2.files().stream().mapToInt(f -> f.chunks().size()).sum());
          assertThat(progress(fleet, t, "as-v2")).isNotEmpty();
          server.clearAssignment(t);

          assertAnsweredBy(local, t, ref2, agent);
          // On the plant broker, below the node's topics: only its questions (ours) and no
          // update, chunk, status, birth or health traffic.
          assertThat(local.drain(nodeTopics))
              .extracting(TestMqttClient.Received::topic)
              .allSatisfy(topic -> assertThat(topic).isEqualTo(t.ask()));
        } finally {
          agent.close();
        }
      }
    }
  }

  @Test
  void updatesOverMqttAndUsb_switchTheServingModel_rollBackOnFailure_andSurviveARestart()
      throws Exception {
    TestBundles bundles = new TestBundles();
    Path key = work.resolve("release.pub");
    bundles.writePublicKey(key);
    Path v1 = bundles.bundle(work.resolve("bundles/v1"), TestBundles.Spec.version(1));
    Path v2 =
        bundles.bundle(work.resolve("bundles/v2"), TestBundles.Spec.version(2).evaluation(PASSING));
    Path v3 =
        bundles.bundle(work.resolve("bundles/v3"), TestBundles.Spec.version(3).evaluation(FAILING));
    Path v4 = bundles.bundle(work.resolve("bundles/v4"), TestBundles.Spec.version(4));
    ModelRef ref1 = bundles.ref(v1, 1);
    ModelRef ref2 = bundles.ref(v2, 2);
    ModelRef ref3 = bundles.ref(v3, 3);
    ModelRef ref4 = bundles.ref(v4, 4);
    Path stick = Files.createDirectories(work.resolve("stick"));

    String node = "upd-" + UUID.randomUUID().toString().substring(0, 8);
    NodeTopics t = Topics.node("upd", node);
    Map<String, String> env = env(node, v1, key, stick);
    try (TestMqttClient c = TestMqttClient.connect(BROKER.broker().url());
        BundleServer server =
            BundleServer.start(BROKER.broker().url(), node + "-ctl", Faults.NONE)) {
      c.subscribe(t.birth());
      c.subscribe(t.updateResult());
      c.subscribe(t.updateProgress());
      c.subscribe(t.journal());
      c.subscribe(t.health());
      c.subscribe(ANSWERS);

      AgentProcess agent = AgentProcess.start(env, work);
      try {
        // v1 is imported from the configured bundle into the empty store, then serves.
        awaitBirth(c, t, ref1, agent);
        assertAnsweredBy(c, t, ref1, agent);

        // v2 over MQTT: progress, verified, activated; the next answer comes from v2.
        UpdateAssignment a2 =
            server.offer("as-v2", "bundle-v2", ref2, v2, UpdateAssignment.DEFAULT_CHUNK_BYTES, t);
        server.publishAssignment(t, a2);
        UpdateResult activated = awaitResult(c, t, "as-v2", UpdateOutcome.ACTIVATED, agent);
        assertThat(activated.model()).isEqualTo(ref2);
        assertThat(activated.activeModel()).isEqualTo(ref2);
        assertThat(activated.activationScore()).isEqualTo(1.0);
        List<UpdateProgress> progress = progress(c, t, "as-v2");
        assertThat(progress)
            .extracting(UpdateProgress::phase)
            .contains(UpdatePhase.VERIFYING, UpdatePhase.ACTIVATING);
        assertThat(progress)
            .filteredOn(
                p -> p.phase() == UpdatePhase.DOWNLOADING || p.phase() == UpdatePhase.VERIFYING)
            .isNotEmpty()
            .allSatisfy(p -> assertThat(p.bytesTotal()).isEqualTo(a2.totalBytes()));
        server.clearAssignment(t);
        assertAnsweredBy(c, t, ref2, agent);
        awaitBirth(c, t, ref2, agent);
        assertRetainedBirthAndStatus(t, ref2);
        // The health gate compares the activation score: health carries the check's score.
        assertThat(awaitHealth(c, t, ref2).activationScore()).isEqualTo(1.0);
        assertThat(metrics(env))
            .as("Prometheus metrics")
            .containsPattern("(?m)^edgeslm_agent_update_model_version(\\{[^}]*\\})? 2\\.0$")
            .containsPattern("(?m)^edgeslm_agent_update_in_progress(\\{[^}]*\\})? [01]\\.0$");

        // v3's activation check fails: rolled back, reported, and v2 keeps answering.
        UpdateAssignment a3 =
            server.offer("as-v3", "bundle-v3", ref3, v3, UpdateAssignment.DEFAULT_CHUNK_BYTES, t);
        server.publishAssignment(t, a3);
        UpdateResult rolledBack = awaitResult(c, t, "as-v3", UpdateOutcome.ROLLED_BACK, agent);
        assertThat(rolledBack.reasonCode()).isEqualTo(ReasonCode.ACTIVATION_CHECK_FAILED.code());
        assertThat(rolledBack.model()).isEqualTo(ref3);
        assertThat(rolledBack.activeModel()).isEqualTo(ref2);
        server.clearAssignment(t);
        assertAnsweredBy(c, t, ref2, agent);
        assertRetainedBirthAndStatus(t, ref2);
      } finally {
        agent.close();
      }

      // Restart: the store's v2 serves (the configured v1 bundle only seeded the store), and the
      // unacknowledged update journal is replayed to the controller.
      c.drain(t.journal());
      c.drain(t.birth());
      try (AgentProcess again = AgentProcess.start(env, work)) {
        awaitBirth(c, t, ref2, again);
        assertAnsweredBy(c, t, ref2, again);
        List<JournalEntry> replayed = journalEntries(c, t, "as-v3", JournalEvent.ROLLED_BACK);
        assertThat(replayed)
            .anySatisfy(
                e -> {
                  assertThat(e.assignmentId()).isEqualTo("as-v2");
                  assertThat(e.event()).isEqualTo(JournalEvent.ACTIVATED);
                });
        assertThat(again.output()).doesNotContain("importing the configured bundle");

        // USB: a signed v4 dropped into the watched directory is installed and reported.
        // Moved in whole (one rename), as a finished copy appears to the watcher.
        Files.move(v4, stick.resolve("v4"), StandardCopyOption.ATOMIC_MOVE);
        Path resultFile = stick.resolve(UsbSideLoader.RESULT_FILE);
        await()
            .atMost(WAIT)
            .until(() -> Files.exists(resultFile) && usbOutcome(resultFile, "v4") != null);
        assertThat(usbOutcome(resultFile, "v4")).as(again.output()).isEqualTo("activated");
        JsonNode file = Json.mapper().readTree(resultFile.toFile());
        assertThat(file.get("nodeId").asText()).isEqualTo(node);
        awaitBirth(c, t, ref4, again);
        assertAnsweredBy(c, t, ref4, again);

        // An ordered rollback over MQTT returns to the previous model, v2.
        UpdateCommand rollback =
            new UpdateCommand(
                Protocol.SCHEMA_VERSION,
                "cmd-rollback-1",
                CommandAction.ROLLBACK,
                null,
                "operator test",
                Instant.now(),
                null);
        server.publish(t.updateCommand(), Json.write(rollback), false);
        UpdateResult ordered = awaitCommandResult(c, t, "cmd-rollback-1", again);
        assertThat(ordered.outcome()).isEqualTo(UpdateOutcome.ROLLED_BACK);
        assertThat(ordered.reasonCode()).isEqualTo(ReasonCode.ROLLBACK_ORDERED.code());
        assertThat(ordered.activeModel()).isEqualTo(ref2);
        awaitBirth(c, t, ref2, again);
        assertAnsweredBy(c, t, ref2, again);
        assertRetainedBirthAndStatus(t, ref2);
      }
    }
  }

  private static String metrics(Map<String, String> env) throws Exception {
    java.net.URI uri =
        java.net.URI.create(
            "http://127.0.0.1:" + env.get("EDGESLM_MANAGEMENT_PORT") + "/q/metrics");
    try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
      var response =
          http.send(
              java.net.http.HttpRequest.newBuilder(uri).timeout(WAIT).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      return response.body();
    }
  }

  private static void awaitBirth(TestMqttClient c, NodeTopics t, ModelRef want, AgentProcess a)
      throws Exception {
    long until = System.nanoTime() + WAIT.toNanos();
    NodeBirth last = null;
    while (System.nanoTime() < until) {
      last = Json.read(c.next(t.birth(), WAIT).payload(), NodeBirth.class);
      if (want.equals(last.activeModel())) {
        return;
      }
    }
    throw new AssertionError("No birth naming " + want + "; last " + last + "\n" + a.output());
  }

  /** A new subscriber gets the retained birth and status, and both name {@code want}. */
  private static void assertRetainedBirthAndStatus(NodeTopics t, ModelRef want) throws Exception {
    try (TestMqttClient fresh = TestMqttClient.connect(BROKER.broker().url())) {
      fresh.subscribe(t.birth());
      fresh.subscribe(t.status());
      NodeBirth b = Json.read(fresh.next(t.birth(), WAIT).payload(), NodeBirth.class);
      assertThat(b.activeModel()).isEqualTo(want);
      NodeStatus s = Json.read(fresh.next(t.status(), WAIT).payload(), NodeStatus.class);
      assertThat(s.state()).isEqualTo(NodeState.ONLINE);
      assertThat(s.activeModel()).isEqualTo(want);
    }
  }

  private static NodeHealth awaitHealth(TestMqttClient c, NodeTopics t, ModelRef want)
      throws Exception {
    long until = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < until) {
      NodeHealth h = Json.read(c.next(t.health(), WAIT).payload(), NodeHealth.class);
      if (want.equals(h.model())) {
        assertThat(h.source()).isEqualTo(Source.MODEL);
        return h;
      }
    }
    throw new AssertionError("No health message naming " + want);
  }

  private static void assertAnsweredBy(
      TestMqttClient c, NodeTopics t, ModelRef want, AgentProcess a) throws Exception {
    byte[] correlation = UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
    c.ask(
        t.ask(),
        "{\"question\":\"Is the pump running?\"}".getBytes(StandardCharsets.UTF_8),
        ANSWERS,
        correlation,
        300L);
    long until = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < until) {
      TestMqttClient.Received r = c.next(ANSWERS, WAIT);
      if (r.correlation().isEmpty()
          || !java.util.Arrays.equals(r.correlation().get(), correlation)) {
        continue;
      }
      Reply reply = Json.read(r.payload(), Reply.class);
      if (reply instanceof Answer answer) {
        assertThat(answer.source()).as(a.output()).isEqualTo(Source.MODEL);
        assertThat(answer.model()).as(a.output()).isEqualTo(want);
        return;
      }
    }
    throw new AssertionError("No answer within " + WAIT + "\n" + a.output());
  }

  private static UpdateResult awaitResult(
      TestMqttClient c, NodeTopics t, String assignment, UpdateOutcome want, AgentProcess a)
      throws Exception {
    long until = System.nanoTime() + WAIT.toNanos();
    List<UpdateResult> seen = new ArrayList<>();
    while (System.nanoTime() < until) {
      UpdateResult r = Json.read(c.next(t.updateResult(), WAIT).payload(), UpdateResult.class);
      seen.add(r);
      if (assignment.equals(r.assignmentId()) && r.outcome() != UpdateOutcome.VERIFIED) {
        assertThat(r.outcome()).as("results %s%n%s", seen, a.output()).isEqualTo(want);
        assertThat(seen)
            .as("a verified result comes first")
            .anySatisfy(
                v -> {
                  assertThat(v.assignmentId()).isEqualTo(assignment);
                  assertThat(v.outcome()).isEqualTo(UpdateOutcome.VERIFIED);
                });
        return r;
      }
    }
    throw new AssertionError("No result for " + assignment + ": " + seen + "\n" + a.output());
  }

  private static UpdateResult awaitCommandResult(
      TestMqttClient c, NodeTopics t, String command, AgentProcess a) throws Exception {
    long until = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < until) {
      UpdateResult r = Json.read(c.next(t.updateResult(), WAIT).payload(), UpdateResult.class);
      if (command.equals(r.commandId())) {
        return r;
      }
    }
    throw new AssertionError("No result for command " + command + "\n" + a.output());
  }

  private static List<UpdateProgress> progress(TestMqttClient c, NodeTopics t, String assignment)
      throws Exception {
    List<UpdateProgress> out = new ArrayList<>();
    for (TestMqttClient.Received r : c.drain(t.updateProgress())) {
      UpdateProgress p = Json.read(r.payload(), UpdateProgress.class);
      if (assignment.equals(p.assignmentId())) {
        out.add(p);
      }
    }
    return out;
  }

  /** Journal entries received until one for {@code assignment} with {@code event} arrives. */
  private static List<JournalEntry> journalEntries(
      TestMqttClient c, NodeTopics t, String assignment, JournalEvent event) throws Exception {
    List<JournalEntry> out = new ArrayList<>();
    long until = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < until) {
      JournalBatch b = Json.read(c.next(t.journal(), WAIT).payload(), JournalBatch.class);
      out.addAll(b.entries());
      if (b.entries().stream()
          .anyMatch(e -> assignment.equals(e.assignmentId()) && e.event() == event)) {
        return out;
      }
    }
    throw new AssertionError("No journal entry " + event + " for " + assignment + ": " + out);
  }

  private static String usbOutcome(Path resultFile, String bundle) {
    try {
      JsonNode root = Json.mapper().readTree(resultFile.toFile());
      for (JsonNode r : root.get("results")) {
        if (r.get("bundle").asText().equals(bundle)) {
          return r.get("outcome").asText();
        }
      }
      return null;
    } catch (java.io.IOException e) {
      return null; // being replaced right now
    }
  }
}
