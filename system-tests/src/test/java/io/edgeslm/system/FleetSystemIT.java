package io.edgeslm.system;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.PostgresDatabase;
import io.edgeslm.testkit.SyntheticModel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole fleet on one machine, as separate processes: a private Mosquitto with the production
 * broker configuration and ACL (deploy/k3s/parts/mosquitto) and certificates from the real
 * fleet-pki.sh, the packaged fleet controller on a fresh PostgreSQL database, and three packaged
 * node agents (one labelled arch=arm64), each seeded with a synthetic model v1. The test only uses
 * what an operator has: model-signing.jar, fleetctl, the REST API and mosquitto_rr; step 2 takes a
 * bundle from upload to a finished two-wave rollout with an approval and a pause with fleetctl
 * alone, run as a process.
 *
 * <p>The steps depend on each other and run in order; a failed step fails the ones after it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetSystemIT {
  private static final Duration WAIT = Duration.ofSeconds(240);
  private static final String SITE = "plant-sys";
  private static final String MODEL = "plant-assistant";
  private static final String DEVICE_CLASS = "gateway-m";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * v2 carries this much padding and the controller serves chunks at {@link #CHUNK_RATE}: about 13
   * s per node, so step 4 can restart a node in the middle of its download with seconds to spare
   * (stopped once 40 % arrived, it has 60 % = 60 MB, about 7 s, before it would finish). The agent
   * keeps all but its window (32 MiB) of what it fetched, so it still holds data to resume.
   */
  private static final int PADDING_MIB = 96;

  private static final long CHUNK_RATE = 8_000_000;

  /** Node id → labels. The third node is "ARM" by label; its real arch fact stays the host's. */
  private static final Map<String, Map<String, String>> NODES = new LinkedHashMap<>();

  static {
    NODES.put("gw-line1", Map.of("line", "1"));
    NODES.put("gw-line2", Map.of("line", "2"));
    NODES.put("gw-arm", Map.of("line", "2", "arch", "arm64"));
  }

  /** Constrained output: even a random-weight model passes this activation check. */
  private static final String PASSING =
      """
      {"schemaVersion": 1, "minScore": 1.0, "cases": [
        {"id": "yes-no", "prompt": "Is the pump running? Answer yes or no:", "nPredict": 4,
         "grammar": "root ::= (\\"yes\\" | \\"no\\")", "expect": {"maxChars": 3}}]}
      """;

  /** A random-weight model cannot repeat a value: this activation check fails. */
  private static final String FAILING =
      """
      {"schemaVersion": 1, "minScore": 1.0, "cases": [
        {"id": "mentions-value", "prompt": "Press 3 oil temperature is 71.2 C. Repeat the value:",
         "nPredict": 8, "expect": {"contains": ["71.2"]}}]}
      """;

  private final long t0 = System.nanoTime();
  private final List<String> timeline = new ArrayList<>();
  private final Map<String, Process> agents = new LinkedHashMap<>();
  private final Map<String, Integer> agentStarts = new LinkedHashMap<>();
  private final List<Process> helpers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  private Path work;
  private Path repo;
  private Path apps;
  private Path javaBin;
  private Process broker;
  private Process controller;
  private PostgresDatabase db;
  private int brokerPort;
  private int httpPort;
  private String token;
  private Path pki;
  private Path operatorPem;
  private Path watcherPem;
  private Path trustRoot;
  private final Map<String, String> digests = new LinkedHashMap<>();
  private final Map<String, String> bundleIds = new LinkedHashMap<>();

  @BeforeAll
  void startTheFleet() throws Exception {
    repo = Path.of(System.getProperty("edgeslm.repo", "..")).toAbsolutePath().normalize();
    javaBin = Path.of(ProcessHandle.current().info().command().orElse("java"));
    for (String p :
        List.of(
            "model-signing/target/model-signing.jar",
            "fleet-controller/target/quarkus-app/quarkus-run.jar",
            "node-agent/target/quarkus-app/quarkus-run.jar")) {
      if (!Files.isRegularFile(repo.resolve(p))) {
        throw new AssertionError(
            repo.resolve(p)
                + " is missing: package the applications first (./mvnw -B package -DskipTests;"
                + " a reactor build packages them before system-tests).");
      }
    }
    work = Files.createDirectories(repo.resolve("system-tests/target/system-" + UUID.randomUUID()));
    mark("setup", "work directory " + work);
    // The packaged applications are copied once, so that a rebuild in the working tree while the
    // test runs cannot change the programs under it.
    apps = Files.createDirectories(work.resolve("apps"));
    for (String p :
        List.of(
            "model-signing/target/model-signing.jar",
            "fleet-controller/target/quarkus-app",
            "fleet-controller/fleetctl",
            // fleetctl finds its Java through the repository's shared JDK finder.
            "scripts/lib/java-home.sh",
            "node-agent/target/quarkus-app")) {
      Files.createDirectories(apps.resolve(p).getParent());
      ProcResult r =
          run(
              List.of("cp", "-r", repo.resolve(p).toString(), apps.resolve(p).toString()),
              Map.of(),
              "copy");
      assertThat(r.exit).as(r.output).isZero();
    }

    // Certificates from the real script: broker, one per node, controller-0 to controller-2.
    pki = work.resolve("pki");
    fleetPki("init");
    fleetPki("broker", "--dns", "localhost", "--ip", "127.0.0.1");
    for (String node : NODES.keySet()) {
      fleetPki("node", node);
    }
    fleetPki("controller", "--replicas", "3");
    String password = Files.readString(pki.resolve("controller/password")).trim();
    // The operator asks with controller-1's identity (the ACL lets controller replicas write
    // questions and read their own reply topic) and watches progress with controller-2's: the
    // broker makes the certificate identity the client id (use_username_as_clientid), so two
    // tools with one certificate would push each other off. mosquitto_rr wants PEM.
    operatorPem = pem(password, "controller-1", "operator.pem");
    watcherPem = pem(password, "controller-2", "watcher.pem");
    startBroker();
    mark("setup", "mosquitto with the production TLS+ACL config on port " + brokerPort);

    // Release keys and the trust store, with the public CLI.
    Path keys = Files.createDirectories(work.resolve("keys"));
    signing(
        "keygen",
        "--curve",
        "p256",
        "--private-key",
        keys.resolve("rm1.pem").toString(),
        "--public-key",
        keys.resolve("rm1.pub").toString());
    signing(
        "keygen",
        "--curve",
        "p256",
        "--private-key",
        keys.resolve("root1.pem").toString(),
        "--public-key",
        keys.resolve("root1.pub").toString());
    trustRoot = keys.resolve("root.1.json");
    signing(
        "trust",
        "init",
        "--root-key",
        keys.resolve("root1.pub").toString(),
        "--release-key",
        keys.resolve("rm1.pub").toString(),
        "--sign-with",
        keys.resolve("root1.pem").toString(),
        "--out",
        trustRoot.toString());
    Path v1 = bundle("v1", 1, 41, null);
    mark("setup", "trust store and signed bundle v1 with model-signing.jar");

    db = PostgresDatabase.createLocal();
    startController(password);
    mark("setup", "controller on PostgreSQL, http port " + httpPort);

    for (String node : NODES.keySet()) {
      startAgent(node, v1, brokerUrl());
    }
    for (String node : NODES.keySet()) {
      String d = digests.get("v1");
      await(node + " online on v1 in the registry", () -> online(node) && digest(node).equals(d));
    }
    mark("setup", "three agents online, each serving v1 " + digests.get("v1"));
  }

  @AfterAll
  void stopEverything() throws Exception {
    for (var e : agents.entrySet()) {
      stop(e.getValue());
    }
    for (Process p : helpers) {
      stop(p);
    }
    stop(controller);
    stop(broker);
    if (db != null) {
      db.close();
    }
    // Logs stay for a look after a failure; the large copies go.
    if (work != null) {
      for (String big : List.of("apps", "bundles")) {
        deleteTree(work.resolve(big));
      }
      for (String node : NODES.keySet()) {
        deleteTree(work.resolve("nodes/" + node + "/data"));
      }
    }
    System.out.println("---- system test timeline ----");
    timeline.forEach(System.out::println);
  }

  @Test
  @Order(1)
  void step1_signedBundleIsAccepted_unsignedAndTamperedAreRefused() throws Exception {
    Path v2 = bundle("v2", 2, 42, PASSING, PADDING_MIB);
    String id = upload(v2);
    assertThat(id).startsWith(MODEL + "-v2-");
    JsonNode info = rest("GET", "/api/v1/bundles/" + id, null, 200);
    assertThat(info.at("/model/digest").asText()).isEqualTo(digests.get("v2"));
    bundleIds.put("v2", id);
    mark("1", "fleetctl upload v2 accepted as " + id);

    Path unsigned = copy(v2, "v2-unsigned");
    Files.delete(unsigned.resolve("model.sig"));
    ProcResult r = fleetctl("upload", unsigned.toString());
    assertThat(r.exit).as(r.output).isEqualTo(1);
    mark("1", "unsigned copy refused: " + lastLine(r.output));

    Path tampered = copy(v2, "v2-tampered");
    byte[] model = Files.readAllBytes(tampered.resolve("model.gguf"));
    model[model.length - 1] ^= 1;
    Files.write(tampered.resolve("model.gguf"), model);
    r = fleetctl("upload", tampered.toString());
    assertThat(r.exit).as(r.output).isEqualTo(1);
    mark("1", "tampered copy refused: " + lastLine(r.output));
    JsonNode list = rest("GET", "/api/v1/bundles", null, 200);
    assertThat(list.findValuesAsText("bundleId")).containsExactly(id);
  }

  @Test
  @Order(2)
  void step2_withOnlyFleetctl_canaryApprovalPauseResume_allNodesOnV2_answeredByV2()
      throws Exception {
    // gw-arm is offline during this rollout (step 4 brings it back).
    stop(agents.get("gw-arm"));
    await("gw-arm offline in the registry", () -> !online("gw-arm"));
    mark("2", "gw-arm stopped; the controller shows it offline");

    // The release manager's way, with fleetctl only: a plan file whose second wave needs an
    // approval, the bundle id given on the command line; stdout is the rollout id alone.
    Path planFile = work.resolve("plan-v2.json");
    Files.writeString(planFile, plan("v2 to the fleet", null, true));
    Cli created =
        fleetctlSplit(
            "rollout", "create", "--plan", planFile.toString(), "--bundle", bundleIds.get("v2"));
    assertThat(created.exit).as(created.err).isZero();
    assertThat(created.out.lines().toList()).as(created.out).hasSize(1);
    String rollout = created.out.strip();
    mark(
        "2",
        "fleetctl rollout create --plan: " + rollout + " (canary 1, then 100% after approval)");

    JsonNode waiting =
        await(
            "rollout " + rollout + " waiting for the approval of wave 2",
            () -> {
              JsonNode st = rolloutGet(rollout);
              return st.path("status").asText().equals("RUNNING")
                      && st.path("waiting").asText().startsWith("approval")
                  ? st
                  : null;
            });
    assertThat(waiting.path("currentWave").asInt()).as(waiting.toString()).isEqualTo(1);
    assertThat(targets(waiting)).as(waiting.toString()).hasSize(1);
    mark(
        "2",
        "canary installed and gated; the rollout waits for " + waiting.path("waiting").asText());

    JsonNode paused = fleetctlJson("rollout", "pause", rollout, "--reason", "shift change");
    assertThat(paused.path("status").asText()).as(paused.toString()).isEqualTo("PAUSED");
    JsonNode resumed = fleetctlJson("rollout", "resume", rollout, "--reason", "shift over");
    assertThat(resumed.path("status").asText()).as(resumed.toString()).isEqualTo("RUNNING");
    JsonNode approved = fleetctlJson("rollout", "approve", rollout, "--reason", "canary healthy");
    assertThat(approved.at("/waves/1/approved").asBoolean()).as(approved.toString()).isTrue();
    mark("2", "fleetctl rollout pause, resume, approve: " + approved.path("status").asText());

    JsonNode done =
        await(
            "rollout " + rollout + " completed (fleetctl --json rollout get)",
            () -> {
              JsonNode st = rolloutGet(rollout);
              String status = st.path("status").asText();
              if (!List.of("RUNNING", "COMPLETED").contains(status)) {
                throw new AssertionError("rollout " + rollout + " is " + status + ": " + st);
              }
              return status.equals("COMPLETED") ? st : null;
            });
    // Who did what, from the audit trail (fleetctl api, the same token).
    String audit = fleetctlJson("api", "GET", "/api/v1/rollouts/" + rollout + "/audit").toString();
    assertThat(audit).contains("paused", "resumed", "approved", "shift change", "canary healthy");
    // The controller's own record: a one-node canary, then the rest; both waves passed the gate
    // on every installed node; the offline node was not assigned.
    JsonNode waves = done.path("waves");
    assertThat(waves).as(done.toString()).hasSize(2);
    assertThat(waves.get(0).path("size").asInt()).as(done.toString()).isEqualTo(1);
    for (JsonNode wave : waves) {
      JsonNode gate = wave.path("gate");
      assertThat(gate.path("passed").asBoolean()).as(done.toString()).isTrue();
      assertThat(gate.path("nodesMeasured").asInt())
          .as(done.toString())
          .isEqualTo(gate.path("nodesInstalled").asInt())
          .isPositive();
      // v2's activation check passes with score 1.0; the nodes' health carries it to the gate.
      assertThat(gate.path("minActivationScore").asDouble()).as(done.toString()).isEqualTo(1.0);
      mark(
          "2",
          "wave "
              + wave.path("index").asInt()
              + " ("
              + wave.path("size").asInt()
              + " node(s)) gate: "
              + gate.path("reason").asText());
    }
    assertThat(targets(done)).containsExactlyInAnyOrder("gw-line1", "gw-line2");
    mark("2", "rollout completed on " + targets(done) + "; gw-arm (offline) not assigned");
    for (String node : List.of("gw-line1", "gw-line2")) {
      assertThat(digest(node)).isEqualTo(digests.get("v2"));
      JsonNode answer = ask(node);
      assertThat(answer.at("/model/digest").asText())
          .as(answer.toString())
          .isEqualTo(digests.get("v2"));
      mark("2", node + " answers from v2: " + abbreviate(answer.path("answer").asText()));
    }
  }

  @Test
  @Order(3)
  void step4_offlineNodeCatchesUp_restartedMidDownloadResumes_journalReachesTheController()
      throws Exception {
    // Watch gw-arm's progress as an operator may (controller-1's identity may read it).
    Path progressLog = work.resolve("gw-arm-progress.jsonl");
    ProcessBuilder sub =
        new ProcessBuilder(
                "mosquitto_sub",
                "-V",
                "mqttv5",
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(brokerPort),
                "--cafile",
                pki.resolve("ca/ca.crt").toString(),
                "--cert",
                watcherPem.toString(),
                "--key",
                watcherPem.toString(),
                "-i",
                "operator-progress",
                "-t",
                "edge/v1/" + SITE + "/gw-arm/update/progress")
            .redirectErrorStream(true)
            .redirectOutput(progressLog.toFile());
    Process watcher = sub.start();
    helpers.add(watcher);
    await("the progress subscription", () -> watcher.isAlive() && Files.exists(progressLog));

    startAgent("gw-arm", work.resolve("bundles/v1"), brokerUrl());
    mark("4", "gw-arm started again; it is assigned v2 as a late joiner");
    JsonNode midway =
        await(
            "gw-arm downloading v2, at least 40 % done",
            () -> {
              for (String line : Files.readAllLines(progressLog)) {
                if (!line.startsWith("{")) {
                  continue;
                }
                JsonNode p = JSON.readTree(line);
                String phase = p.path("phase").asText();
                if (!phase.equalsIgnoreCase("downloading")) {
                  if (!phase.isEmpty()) {
                    throw new AssertionError(
                        "gw-arm left the download ("
                            + line
                            + ") before the test could restart"
                            + " it: the transfer was faster than the chunk rate allows");
                  }
                  continue;
                }
                long done = p.path("bytesDone").asLong();
                long total = p.path("bytesTotal").asLong();
                if (done * 10 >= total * 4 && done < total) {
                  return p;
                }
              }
              return null;
            });
    stop(agents.get("gw-arm"));
    mark(
        "4",
        "gw-arm stopped mid-download at "
            + midway.path("bytesDone").asLong()
            + " of "
            + midway.path("bytesTotal").asLong()
            + " bytes");
    startAgent("gw-arm", work.resolve("bundles/v1"), brokerUrl());
    await("gw-arm on v2", () -> online("gw-arm") && digest("gw-arm").equals(digests.get("v2")));
    JsonNode journal =
        await(
            "gw-arm's journal with the v2 activation at the controller",
            () -> {
              JsonNode j = rest("GET", "/api/v1/nodes/gw-arm/journal", null, 200);
              return j.toString().toLowerCase().contains("\"activated\"") ? j : null;
            });
    // In sequence order (the API lists the newest first).
    List<String> starts =
        journal.findParents("event").stream()
            .filter(e -> e.path("event").asText().equalsIgnoreCase("download_started"))
            .sorted(Comparator.comparingLong(e -> e.path("seq").asLong()))
            .map(e -> e.path("detail").asText())
            .toList();
    assertThat(starts).as("download_started details in %s", journal).hasSizeGreaterThanOrEqualTo(2);
    assertThat(starts.get(0)).as("the first download_started").contains("from the start");
    assertThat(starts.get(starts.size() - 1))
        .as("the download_started after the restart")
        .contains("resumed with");
    mark(
        "4",
        "gw-arm resumed and caught up to v2; journal at the controller: "
            + abbreviate(starts.get(starts.size() - 1)));
    JsonNode answer = ask("gw-arm");
    assertThat(answer.at("/model/digest").asText()).isEqualTo(digests.get("v2"));
    mark("4", "gw-arm answers from v2");
  }

  @Test
  @Order(4)
  void step3_failingActivationCheck_canaryRollsBack_rolloutPauses_noOtherNodeGetsV3()
      throws Exception {
    Path v3 = bundle("v3", 3, 43, FAILING);
    String id = upload(v3);
    bundleIds.put("v3", id);
    mark("3", "v3 (failing activation check) uploaded as " + id);
    String rollout = createRollout("v3 to the fleet", id);
    JsonNode paused = await("rollout " + rollout + " paused", () -> rolloutIn(rollout, "PAUSED"));
    mark("3", "rollout paused: " + abbreviate(paused.get("waiting").asText("")));
    // The controller assigned v3 to the canary only, and holds its failure.
    List<String> assigned = targets(paused);
    assertThat(assigned).as(paused.toString()).hasSize(1);
    assertThat(paused.at("/targets/" + assigned.get(0) + "/phase").asText())
        .as(paused.toString())
        .isEqualTo("FAILED");
    assertThat(paused.path("currentWave").asInt()).as(paused.toString()).isZero();
    List<String> gotV3 = new ArrayList<>();
    for (String node : NODES.keySet()) {
      JsonNode j = rest("GET", "/api/v1/nodes/" + node + "/journal", null, 200);
      if (j.toString().contains(digests.get("v3"))) {
        gotV3.add(node);
        assertThat(j.toString()).contains("activation_check_failed");
      }
      assertThat(digest(node)).isEqualTo(digests.get("v2"));
    }
    assertThat(gotV3).as("nodes that received v3").isEqualTo(assigned);
    mark("3", "canary " + gotV3.get(0) + " rolled back to v2 by itself; no other node got v3");
    JsonNode answer = ask(gotV3.get(0));
    assertThat(answer.at("/model/digest").asText()).isEqualTo(digests.get("v2"));
    mark("3", gotV3.get(0) + " answers from v2 after the rollback");
    rest("POST", "/api/v1/rollouts/" + rollout + "/abort", "{\"reason\":\"v3 fails\"}", 200);
  }

  @Test
  @Order(5)
  void step5_usbSideLoadWhileOffline_isShownAfterReconnect() throws Exception {
    String node = "gw-line1";
    Path v4 = bundle("v4", 4, 44, PASSING);
    stop(agents.get(node));
    // Offline: the same agent, pointed at a port where no broker listens.
    startAgent(node, work.resolve("bundles/v1"), "ssl://127.0.0.1:" + freePort());
    await(node + " offline in the registry", () -> !online(node));
    Path stick = work.resolve("nodes/" + node + "/stick");
    Path staged = copy(v4, "v4-on-stick");
    Files.move(staged, stick.resolve("v4"), StandardCopyOption.ATOMIC_MOVE);
    mark("5", "v4 copied onto " + node + "'s USB stick while it is offline");
    Path resultFile = stick.resolve("edgeslm-result.json");
    JsonNode result =
        await(
            "USB result file naming v4",
            () -> {
              if (!Files.exists(resultFile)) {
                return null;
              }
              try {
                JsonNode f = JSON.readTree(resultFile.toFile());
                for (JsonNode r : f.path("results")) {
                  if (r.path("bundle").asText().equals("v4")) {
                    return r;
                  }
                }
              } catch (IOException e) {
                return null; // being replaced right now
              }
              return null;
            });
    assertThat(result.path("outcome").asText()).as(result.toString()).isEqualTo("activated");
    assertThat(digest(node)).isEqualTo(digests.get("v2"));
    mark("5", "stick result: activated; the controller still shows v2 while the node is away");
    stop(agents.get(node));
    startAgent(node, work.resolve("bundles/v1"), brokerUrl());
    await(
        node + " on v4 in the registry",
        () -> online(node) && digest(node).equals(digests.get("v4")));
    mark("5", node + " reconnected; the controller shows v4");
    JsonNode answer = ask(node);
    assertThat(answer.at("/model/digest").asText()).isEqualTo(digests.get("v4"));
    mark("5", node + " answers from v4");
  }

  @Test
  @Order(6)
  void
      step6_loraAdapterForV2_rolledOutToTwoNodes_changesTheirAnswers_tamperedRefused_rollbackToTheBase()
          throws Exception {
    // After step 5: gw-line1 serves v4, gw-line2 and gw-arm (both line=2) serve v2.
    List<String> line2 = List.of("gw-line2", "gw-arm");
    Map<String, JsonNode> before = new LinkedHashMap<>();
    for (String node : line2) {
      assertThat(digest(node)).as(node).isEqualTo(digests.get("v2"));
      before.put(node, ask(node));
      assertThat(before.get(node).has("adapter")).as(before.get(node).toString()).isFalse();
    }
    Path lora = adapterBundle("lora-v1", 1, 42, 7, digests.get("v2"));
    mark("6", "adapter for v2 signed with model-signing.jar: " + digests.get("lora-v1"));

    // A tampered copy: one byte of the adapter flipped after signing; the controller refuses it.
    Path tampered = copy(lora, "lora-tampered");
    byte[] bytes = Files.readAllBytes(tampered.resolve("adapter.gguf"));
    bytes[bytes.length - 5] ^= 0x20;
    Files.write(tampered.resolve("adapter.gguf"), bytes);
    Cli refused = fleetctlSplit("bundle", "upload", tampered.toString());
    assertThat(refused.exit).as(refused.err).isNotZero();
    assertThat(refused.err).as(refused.err).contains("adapter.gguf");
    mark("6", "tampered adapter refused at upload: " + abbreviate(lastLine(refused.err)));

    String id = upload(lora);
    bundleIds.put("lora-v1", id);
    // The whole site includes gw-line1, which serves v4: the controller refuses, naming it.
    HttpResponse<String> wrong =
        send("POST", "/api/v1/rollouts", plan("lora to the site", id, false));
    assertThat(wrong.statusCode()).as(wrong.body()).isEqualTo(409);
    assertThat(wrong.body()).contains("gw-line1").contains("another base");
    mark("6", "rollout to the whole site refused: " + abbreviate(wrong.body()));

    String rollout =
        rest("POST", "/api/v1/rollouts", linePlan("lora to line 2", id, "2"), 201)
            .get("id")
            .asText();
    JsonNode done =
        await("rollout " + rollout + " completed", () -> rolloutIn(rollout, "COMPLETED"));
    assertThat(targets(done)).containsExactlyInAnyOrderElementsOf(line2);
    mark("6", "adapter rollout " + rollout + " completed on " + targets(done));
    Map<String, String> withAdapter = new LinkedHashMap<>();
    for (String node : line2) {
      JsonNode answer = ask(node);
      withAdapter.put(node, answer.path("answer").asText());
      assertThat(answer.at("/model/digest").asText())
          .as(answer.toString())
          .isEqualTo(digests.get("v2"));
      assertThat(answer.at("/adapter/digest").asText())
          .as(answer.toString())
          .isEqualTo(digests.get("lora-v1"));
      assertThat(answer.path("answer").asText())
          .as("%s's answer with the adapter", node)
          .isNotEqualTo(before.get(node).path("answer").asText());
      mark("6", node + " answers from v2 + adapter: " + abbreviate(answer.path("answer").asText()));
    }
    // The registry still shows the base: the rule for the next adapter is about the base.
    assertThat(digest("gw-line2")).isEqualTo(digests.get("v2"));

    rest("POST", "/api/v1/rollouts/" + rollout + "/rollback", "{\"reason\":\"lora off\"}", 200);
    for (String node : line2) {
      JsonNode answer =
          await(
              node + " answers without the adapter",
              () -> {
                JsonNode a = ask(node);
                return a.has("adapter") ? null : a;
              });
      assertThat(answer.at("/model/digest").asText()).isEqualTo(digests.get("v2"));
      assertThat(answer.path("answer").asText())
          .as("%s's answer from the base again", node)
          .isNotEqualTo(withAdapter.get(node));
      mark("6", node + " rolled back to v2 alone: " + abbreviate(answer.path("answer").asText()));
    }
  }

  /** One wave to the nodes labelled {@code line}; no approval. */
  private static String linePlan(String name, String bundleId, String line) {
    return plan(name, bundleId, false)
        .replace(
            "\"selector\": {\"sites\": [\"" + SITE + "\"]}",
            "\"selector\": {\"sites\": [\""
                + SITE
                + "\"], \"labels\": {\"line\": \""
                + line
                + "\"}}")
        .replace(
            "[{\"count\": 1}, {\"percent\": 100, \"approval\": false}]", "[{\"percent\": 100}]");
  }

  /**
   * A LoRA adapter bundle signed with the CLI: a synthetic adapter (seed) for the tiny model of
   * {@code baseSeed}, release.json of kind adapter naming {@code baseDigest}.
   */
  private Path adapterBundle(String name, int version, long baseSeed, long seed, String baseDigest)
      throws Exception {
    Path dir = Files.createDirectories(work.resolve("bundles/" + name));
    io.edgeslm.testkit.SyntheticLoraAdapter.of(
            SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, baseSeed), seed)
        .write(dir.resolve("adapter.gguf"));
    Files.writeString(dir.resolve("eval.json"), PASSING);
    signing(
        "release",
        "init",
        "--kind",
        "adapter",
        "--base-model-digest",
        baseDigest,
        "--model",
        "plant-lora",
        "--version",
        Integer.toString(version),
        "--channel",
        "stable",
        "--valid-days",
        "30",
        "--device-class",
        DEVICE_CLASS,
        "--min-agent-version",
        "0.1.0",
        "--model-file",
        "adapter.gguf",
        // the adapter's own activation check (constrained output, passes on random weights)
        "--evaluation-file",
        "eval.json",
        "--out",
        dir.resolve("release.json").toString());
    signing("sign", "--private-key", work.resolve("keys/rm1.pem").toString(), dir.toString());
    ProcResult v = signing("verify", "--trust-store", trustRoot.toString(), dir.toString());
    var m = java.util.regex.Pattern.compile("root sha256:([0-9a-f]{64})").matcher(v.output);
    assertThat(m.find()).as(v.output).isTrue();
    digests.put(name, "sha256:" + m.group(1));
    return dir;
  }

  // ---- the fleet's parts ----

  private void startBroker() throws Exception {
    Path dir = Files.createDirectories(work.resolve("broker"));
    Files.createDirectories(dir.resolve("config"));
    Files.createDirectories(dir.resolve("data"));
    Path certs = Files.createDirectories(dir.resolve("certs"));
    for (String f : List.of("ca/ca.crt", "broker/tls.crt", "broker/tls.key", "ca/crl.pem")) {
      Files.copy(pki.resolve(f), certs.resolve(Path.of(f).getFileName()));
    }
    Path parts = repo.resolve("deploy/k3s/parts/mosquitto");
    String conf = Files.readString(parts.resolve("mosquitto.conf"));
    if (!conf.contains("\nlistener 8883\n")) {
      throw new AssertionError("deploy/k3s mosquitto.conf has no 'listener 8883' line");
    }
    brokerPort = freePort();
    // Only what ties the file to a pod changes: mount paths, and the listener's port.
    String local =
        conf.replace("/mosquitto/config/", dir.resolve("config") + "/")
            .replace("/mosquitto/certs/", certs + "/")
            .replace("/mosquitto/data/", dir.resolve("data") + "/")
            .replace("\nlistener 8883\n", "\nlistener " + brokerPort + " 127.0.0.1\n");
    if ("root".equals(System.getProperty("user.name"))) {
      local = "user root\n" + local;
    }
    Files.writeString(dir.resolve("mosquitto.conf"), local);
    Files.copy(parts.resolve("acl"), dir.resolve("config/acl"));
    Path binary =
        Stream.of("/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst()
            .orElseThrow(
                () -> new AssertionError("mosquitto is not installed (apt-get install mosquitto)"));
    broker =
        new ProcessBuilder(binary.toString(), "-c", dir.resolve("mosquitto.conf").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("mosquitto.log").toFile())
            .start();
    await(
        "mosquitto listening on " + brokerPort,
        () -> {
          if (!broker.isAlive()) {
            throw new AssertionError(
                "mosquitto exited: " + Files.readString(dir.resolve("mosquitto.log")));
          }
          try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", brokerPort), 500);
            return true;
          } catch (IOException e) {
            return false;
          }
        });
  }

  private String brokerUrl() {
    return "ssl://127.0.0.1:" + brokerPort;
  }

  private void startController(String password) throws Exception {
    token = UUID.randomUUID() + "-" + UUID.randomUUID();
    httpPort = freePort();
    Path dir = Files.createDirectories(work.resolve("controller"));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("FLEET_DATABASE", "postgresql");
    env.put("QUARKUS_DATASOURCE_ACTIVE", "false");
    env.put("QUARKUS_DATASOURCE_PG_ACTIVE", "true");
    env.put("QUARKUS_DATASOURCE_PG_JDBC_URL", db.jdbcUrl());
    env.put("QUARKUS_DATASOURCE_PG_USERNAME", db.user());
    env.put("QUARKUS_DATASOURCE_PG_PASSWORD", db.password());
    env.put("FLEET_MQTT_URI", brokerUrl());
    env.put("FLEET_MQTT_CLIENT_ID", "controller-0");
    env.put("FLEET_TRUST_ROOT", trustRoot.toString());
    env.put("FLEET_AUTH_BOOTSTRAP_ADMIN_TOKEN", token);
    env.put("FLEET_BUNDLES_DIR", dir.resolve("bundles").toString());
    env.put("FLEET_ROLLOUTS_TICK", "PT1S");
    env.put("FLEET_BUNDLES_BYTES_PER_SECOND", Long.toString(CHUNK_RATE));
    env.put("QUARKUS_HTTP_PORT", Integer.toString(httpPort));
    // Health is on the management interface, not the public port.
    int managementPort = freePort();
    env.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(managementPort));
    Path mqtt = pki.resolve("controller");
    List<String> cmd =
        List.of(
            javaBin.toString(),
            "-XX:+UseSerialGC",
            "-Xmx384m",
            "-Djavax.net.ssl.keyStore=" + mqtt.resolve("controller-0.p12"),
            "-Djavax.net.ssl.keyStoreType=PKCS12",
            "-Djavax.net.ssl.keyStorePassword=" + password,
            "-Djavax.net.ssl.trustStore=" + mqtt.resolve("truststore.p12"),
            "-Djavax.net.ssl.trustStoreType=PKCS12",
            "-Djavax.net.ssl.trustStorePassword=" + password,
            "-jar",
            apps.resolve("fleet-controller/target/quarkus-app/quarkus-run.jar").toString());
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("controller.log").toFile());
    pb.environment().putAll(env);
    controller = pb.start();
    await(
        "controller ready",
        () -> {
          if (!controller.isAlive()) {
            throw new AssertionError(
                "The controller exited. Log:\n" + Files.readString(dir.resolve("controller.log")));
          }
          try {
            return http.send(
                        HttpRequest.newBuilder(
                                URI.create(
                                    "http://127.0.0.1:" + managementPort + "/q/health/ready"))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                        HttpResponse.BodyHandlers.ofString())
                    .statusCode()
                == 200;
          } catch (IOException e) {
            return false;
          }
        });
  }

  private void startAgent(String node, Path v1, String brokerUrl) throws Exception {
    Path dir = Files.createDirectories(work.resolve("nodes/" + node));
    Files.createDirectories(dir.resolve("stick"));
    Path tls = pki.resolve("nodes/" + node);
    StringBuilder props = new StringBuilder();
    props
        .append("edgeslm.agent.broker.tls.certificate=")
        .append(tls.resolve("node.crt"))
        .append('\n');
    props
        .append("edgeslm.agent.broker.tls.private-key=")
        .append(tls.resolve("node.key"))
        .append('\n');
    props.append("edgeslm.agent.broker.tls.ca=").append(tls.resolve("ca.crt")).append('\n');
    NODES
        .get(node)
        .forEach(
            (k, v) ->
                props.append("edgeslm.agent.labels.").append(k).append('=').append(v).append('\n'));
    Files.writeString(dir.resolve("agent.properties"), props.toString());
    Map<String, String> env = new LinkedHashMap<>();
    env.put("EDGESLM_CONFIG", dir.resolve("agent.properties").toString());
    env.put("EDGESLM_AGENT_BROKER_URL", brokerUrl);
    env.put("EDGESLM_AGENT_SITE", SITE);
    env.put("EDGESLM_AGENT_NODE_ID", node);
    env.put("EDGESLM_AGENT_DEVICE_CLASS", DEVICE_CLASS);
    env.put("EDGESLM_AGENT_BROKER_MAX_RECONNECT_DELAY", "1s");
    env.put("EDGESLM_AGENT_HEALTH_INTERVAL", "1s");
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(freePort()));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", dir.resolve("journal").toString());
    env.put("EDGESLM_AGENT_MODEL_PATH", v1.toString());
    env.put("EDGESLM_AGENT_MODEL_NAME", MODEL);
    env.put("EDGESLM_AGENT_MODEL_THREADS", "1");
    env.put("EDGESLM_AGENT_MODEL_CONTEXT", "1024");
    env.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "24");
    env.put("EDGESLM_AGENT_MODEL_TEMPERATURE", "0.8");
    env.put("EDGESLM_AGENT_MODEL_SEED", "1");
    env.put("EDGESLM_AGENT_REPORT_INTERVAL", "1h");
    env.put("EDGESLM_AGENT_UPDATES_TRUST_STORE", trustRoot.toString());
    env.put("EDGESLM_AGENT_UPDATES_DATA_DIR", dir.resolve("data").toString());
    env.put("EDGESLM_AGENT_UPDATES_USB_WATCH_DIR", dir.resolve("stick").toString());
    env.put("EDGESLM_AGENT_UPDATES_USB_POLL_INTERVAL", "300ms");
    env.put("EDGESLM_AGENT_UPDATES_SOAK", "1s");
    env.put("EDGESLM_AGENT_UPDATES_SOAK_SAMPLE", "200ms");
    env.put("EDGESLM_AGENT_UPDATES_DISK_MARGIN_BYTES", "0");
    env.put("EDGESLM_AGENT_UPDATES_SWAP_MODE", "side-by-side");
    int n = agentStarts.merge(node, 1, Integer::sum);
    ProcessBuilder pb =
        new ProcessBuilder(
                javaBin.toString(),
                "-XX:+UseSerialGC",
                "-Xmx256m",
                "--enable-native-access=ALL-UNNAMED",
                "-jar",
                apps.resolve("node-agent/target/quarkus-app/quarkus-run.jar").toString())
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("agent-" + n + ".log").toFile());
    pb.environment().putAll(env);
    agents.put(node, pb.start());
  }

  // ---- the public tools ----

  private void fleetPki(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "bash",
                repo.resolve("deploy/k3s/scripts/fleet-pki.sh").toString(),
                "--dir",
                pki.toString()));
    cmd.addAll(List.of(args));
    ProcResult r = run(cmd, Map.of(), "fleet-pki");
    assertThat(r.exit).as(r.output).isZero();
  }

  private ProcResult signing(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                javaBin.toString(),
                "-jar",
                apps.resolve("model-signing/target/model-signing.jar").toString()));
    cmd.addAll(List.of(args));
    ProcResult r = run(cmd, Map.of(), "model-signing");
    assertThat(r.exit).as("model-signing %s%n%s", List.of(args), r.output).isZero();
    return r;
  }

  private ProcResult fleetctl(String... args) throws Exception {
    Cli r = fleetctlSplit(args);
    return new ProcResult(r.exit, r.out + r.err);
  }

  /** What fleetctl printed, stdout and stderr apart (scripts read only stdout). */
  private record Cli(int exit, String out, String err) {}

  /** Runs {@code fleetctl} as a process with the controller's URL and the token. */
  private Cli fleetctlSplit(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("bash", apps.resolve("fleet-controller/fleetctl").toString()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(work, "fleetctl-", ".out");
    Path err = Files.createTempFile(work, "fleetctl-", ".err");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment()
        .putAll(
            Map.of(
                "FLEET_URL",
                "http://127.0.0.1:" + httpPort,
                "FLEET_TOKEN",
                token,
                "JAVA_HOME",
                javaBin.getParent().getParent().toString()));
    Process p = pb.start();
    if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("fleetctl did not finish within " + WAIT + ": " + cmd);
    }
    return new Cli(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  /** {@code fleetctl --json ARGS}: must succeed; its stdout is the controller's JSON document. */
  private JsonNode fleetctlJson(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--json"));
    all.addAll(List.of(args));
    Cli r = fleetctlSplit(all.toArray(String[]::new));
    assertThat(r.exit).as("fleetctl %s: %s", all, r.err).isZero();
    return JSON.readTree(r.out);
  }

  /** A bundle signed with the CLI: synthetic model (seed), release.json, optional eval. */
  private Path bundle(String name, int version, long seed, String evaluation) throws Exception {
    return bundle(name, version, seed, evaluation, 0);
  }

  /**
   * As above, with {@code paddingMiB} of random bytes in {@code extra/padding.bin} (signed like
   * every file) so that the transfer lasts long enough to interrupt.
   */
  private Path bundle(String name, int version, long seed, String evaluation, int paddingMiB)
      throws Exception {
    Path dir = Files.createDirectories(work.resolve("bundles/" + name));
    SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, seed).write(dir.resolve("model.gguf"));
    if (paddingMiB > 0) {
      Files.createDirectories(dir.resolve("extra"));
      java.util.Random random = new java.util.Random(seed);
      byte[] mib = new byte[1 << 20];
      try (var out = Files.newOutputStream(dir.resolve("extra/padding.bin"))) {
        for (int i = 0; i < paddingMiB; i++) {
          random.nextBytes(mib);
          out.write(mib);
        }
      }
    }
    List<String> args =
        new ArrayList<>(
            List.of(
                "release",
                "init",
                "--model",
                MODEL,
                "--version",
                Integer.toString(version),
                "--channel",
                "stable",
                "--valid-days",
                "30",
                "--device-class",
                DEVICE_CLASS,
                "--min-agent-version",
                "0.1.0",
                "--model-file",
                "model.gguf",
                "--out",
                dir.resolve("release.json").toString()));
    if (evaluation != null) {
      Files.writeString(dir.resolve("eval.json"), evaluation);
      args.addAll(List.of("--evaluation-file", "eval.json"));
    }
    signing(args.toArray(String[]::new));
    signing("sign", "--private-key", work.resolve("keys/rm1.pem").toString(), dir.toString());
    ProcResult v = signing("verify", "--trust-store", trustRoot.toString(), dir.toString());
    var m = java.util.regex.Pattern.compile("root sha256:([0-9a-f]{64})").matcher(v.output);
    assertThat(m.find()).as(v.output).isTrue();
    digests.put(name, "sha256:" + m.group(1));
    return dir;
  }

  /** {@code fleetctl bundle upload}: progress on stderr, the bundle id alone on stdout. */
  private String upload(Path bundle) throws Exception {
    Cli r = fleetctlSplit("bundle", "upload", bundle.toString());
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.err).contains("uploading 100%").contains("controller: verified and stored");
    assertThat(r.out.lines().toList()).as("stdout of bundle upload").hasSize(1);
    return r.out.strip();
  }

  /** A rollout plan through the REST API, as a script without fleetctl would send it. */
  private String createRollout(String name, String bundleId) throws Exception {
    return rest("POST", "/api/v1/rollouts", plan(name, bundleId, false), 201).get("id").asText();
  }

  /**
   * One canary, then everyone (after an approval if {@code approval}); any failure pauses. The gate
   * needs health on the new model from every installed node after a 3 s soak; its speed and latency
   * limits are wide open, since synthetic models on a shared machine say nothing about speed. The
   * activation score (from the nodes' health messages) must be at least 0.5. Without a bundle id
   * the plan has none (fleetctl's --bundle gives it).
   */
  private static String plan(String name, String bundleId, boolean approval) {
    return """
        {"name": "%s", %s"selector": {"sites": ["%s"]},
         "waves": [{"count": 1}, {"percent": 100, "approval": %s}],
         "thresholds": {"successPercent": 100, "errorPercent": 0, "onErrors": "PAUSE",
                        "resultTimeout": "PT5M"},
         "gate": {"soak": "PT3S", "baseline": "PT1H", "minTokensPerSecondRatio": 0.0,
                  "maxP95LatencyRatio": 1000, "maxErrorRateIncrease": 1.0,
                  "minActivationScore": 0.5, "minMeasuredPercent": 100, "dataTimeout": "PT5M"}}
        """
        .formatted(
            name, bundleId == null ? "" : "\"bundleId\": \"" + bundleId + "\", ", SITE, approval);
  }

  /** {@code fleetctl --json rollout get ID}: the controller's state of the rollout. */
  private JsonNode rolloutGet(String id) throws Exception {
    return fleetctlJson("rollout", "get", id);
  }

  private JsonNode rolloutIn(String id, String status) throws Exception {
    JsonNode r = rest("GET", "/api/v1/rollouts/" + id, null, 200);
    String s = r.path("status").asText();
    if (!s.equals(status) && !s.equals("RUNNING") && !s.equals("PAUSED")) {
      throw new AssertionError("rollout " + id + " is " + s + ", waiting for " + status + ": " + r);
    }
    return s.equals(status) ? r : null;
  }

  /** The nodes a rollout assigned its bundle to, as the controller records them. */
  private static List<String> targets(JsonNode rollout) {
    List<String> out = new ArrayList<>();
    rollout.path("targets").fieldNames().forEachRemaining(out::add);
    return out;
  }

  /** A controller identity's certificate and key as one PEM file, for the mosquitto clients. */
  private Path pem(String password, String identity, String file) throws Exception {
    Path out = work.resolve(file);
    ProcResult r =
        run(
            List.of(
                "openssl",
                "pkcs12",
                "-in",
                pki.resolve("controller/" + identity + ".p12").toString(),
                "-passin",
                "pass:" + password,
                "-nodes",
                "-out",
                out.toString()),
            Map.of(),
            "openssl-" + identity);
    assertThat(r.exit).as(r.output).isZero();
    return out;
  }

  /** An operator's question with mosquitto_rr; returns the node's answer. */
  private JsonNode ask(String node) throws Exception {
    ProcResult r =
        run(
            List.of(
                "mosquitto_rr",
                "-V",
                "mqttv5",
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(brokerPort),
                "--cafile",
                pki.resolve("ca/ca.crt").toString(),
                "--cert",
                operatorPem.toString(),
                "--key",
                operatorPem.toString(),
                "-i",
                "operator-" + UUID.randomUUID().toString().substring(0, 8),
                "-t",
                "edge/v1/" + SITE + "/" + node + "/ask",
                "-e",
                "fleet/v1/controller-1/reply",
                "-m",
                "{\"schemaVersion\":1,\"question\":\"Is the pump running?\"}",
                "-W",
                "180"),
            Map.of(),
            "mosquitto_rr");
    assertThat(r.exit).as(r.output).isZero();
    JsonNode answer = JSON.readTree(r.output.strip().lines().reduce((a, b) -> b).orElse("{}"));
    assertThat(answer.path("type").asText()).as(r.output).isEqualTo("answer");
    return answer;
  }

  private boolean online(String node) throws Exception {
    HttpResponse<String> r = send("GET", "/api/v1/nodes/" + node, null);
    return r.statusCode() == 200
        && JSON.readTree(r.body()).path("status").asText().equalsIgnoreCase("online");
  }

  /** The serving model's digest as the controller's registry shows it. */
  private String digest(String node) throws Exception {
    HttpResponse<String> r = send("GET", "/api/v1/nodes/" + node, null);
    if (r.statusCode() != 200) {
      return "";
    }
    return JSON.readTree(r.body()).at("/model/digest").asText("");
  }

  private JsonNode rest(String method, String path, String body, int want) throws Exception {
    HttpResponse<String> r = send(method, path, body);
    assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isEqualTo(want);
    return JSON.readTree(r.body());
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  // ---- plumbing ----

  private record ProcResult(int exit, String output) {}

  private ProcResult run(List<String> cmd, Map<String, String> env, String name) throws Exception {
    Path log = Files.createTempFile(work, name + "-", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError(name + " did not finish within " + WAIT + ": " + cmd);
    }
    return new ProcResult(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  /** Polls until {@code check} returns true or a non-null value other than false. */
  private <T> T await(String what, Callable<T> check) throws Exception {
    long end = System.nanoTime() + WAIT.toNanos();
    Exception last = null;
    while (System.nanoTime() < end) {
      try {
        T v = check.call();
        if (v != null && !Boolean.FALSE.equals(v)) {
          return v;
        }
      } catch (IOException e) {
        last = e;
      }
      Thread.sleep(300);
    }
    throw new AssertionError(
        "Waited " + WAIT + " for " + what + " (last error: " + last + "). Logs in " + work);
  }

  private void mark(String step, String observation) {
    String line =
        String.format("%7.1f s  step %-5s %s", (System.nanoTime() - t0) / 1e9, step, observation);
    timeline.add(line);
    System.out.println(line);
  }

  private Path copy(Path from, String name) throws IOException {
    Path to = work.resolve("bundles/" + name);
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
    return to;
  }

  private static void stop(Process p) throws InterruptedException {
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static String lastLine(String out) {
    return out.strip().lines().reduce((a, b) -> b).orElse("");
  }

  private static String abbreviate(String s) {
    return s.length() > 160 ? s.substring(0, 157) + "..." : s;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
