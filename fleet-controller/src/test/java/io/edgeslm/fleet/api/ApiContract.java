package io.edgeslm.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.fleet.TestBundles;
import io.edgeslm.fleet.internal.app.ControllerBean;
import io.edgeslm.fleet.sim.QuestionResponder;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.Protocol;
import io.quarkus.test.common.http.TestHTTPResource;
import jakarta.inject.Inject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The REST API: roles on every endpoint, problem details, pagination, upload and rollouts. Every
 * answer a test receives through {@link Http} is recorded; the last test holds the record against
 * the OpenAPI document, both ways.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class ApiContract {

  @TestHTTPResource("/")
  URI base;

  @Inject ControllerBean bean;

  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "fleet.mqtt.uri")
  String mqttUri;

  /**
   * The management interface (health, metrics, OpenAPI) on the port it was given in this run
   * ({@code %test.quarkus.management.test-port=0}: a free one, as for the HTTP port; a fixed
   * management port beside a random HTTP port keeps the application from starting).
   */
  @TestHTTPResource(value = "/", management = true)
  URI managementBase;

  Http http;
  static final Map<String, String> TOKENS = new java.util.concurrent.ConcurrentHashMap<>();

  /** A request and its answer, as a test received it. */
  record Exchange(String method, String path, Http.Reply reply) {}

  /** Every exchange of the run, by test class (the H2 and PostgreSQL runs share this JVM). */
  static final Map<Class<?>, List<Exchange>> EXCHANGES =
      new java.util.concurrent.ConcurrentHashMap<>();

  List<Exchange> exchanges() {
    return EXCHANGES.computeIfAbsent(
        getClass(), c -> java.util.Collections.synchronizedList(new ArrayList<>()));
  }

  @BeforeEach
  void setUp() throws Exception {
    List<Exchange> log = exchanges();
    http = new Http(base, (method, path, reply) -> log.add(new Exchange(method, path, reply)));
    if (TOKENS.isEmpty() || !tokenWorks(TOKENS.get("viewer"))) {
      TOKENS.clear();
      for (String role : List.of("viewer", "operator", "release-manager", "admin")) {
        Http.Reply r =
            http.send(
                "POST",
                "/api/v1/tokens",
                ControllerTestResource.ADMIN_TOKEN,
                "{\"name\":\"t-" + role + "\",\"role\":\"" + role + "\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        TOKENS.put(role, r.json().get("token").asText());
      }
    }
    ModelRef m = ModelRef.of("phi-mini", 1, "sha256:" + "a".repeat(64));
    for (int i = 0; i < 7; i++) {
      Instant at = Instant.parse("2026-03-02T10:00:00Z");
      bean.controller()
          .nodes()
          .recordBirth(
              "plant-1",
              "gw-" + i,
              new NodeBirth(
                  Protocol.SCHEMA_VERSION,
                  "0.1.0",
                  "amd64",
                  "gw-8g",
                  8L << 30,
                  Map.of("line", i < 3 ? "a" : "b"),
                  m,
                  null,
                  at,
                  at),
              at);
    }
  }

  boolean tokenWorks(String token) throws Exception {
    return token != null && http.get("/api/v1/fleet", token).status() == 200;
  }

  record Endpoint(String method, String path, String body, String role) {}

  static final List<Endpoint> ENDPOINTS =
      List.of(
          new Endpoint("GET", "/api/v1/fleet", null, "viewer"),
          new Endpoint("GET", "/api/v1/nodes", null, "viewer"),
          new Endpoint("GET", "/api/v1/nodes/gw-0", null, "viewer"),
          new Endpoint("GET", "/api/v1/nodes/gw-0/health", null, "viewer"),
          new Endpoint("GET", "/api/v1/nodes/gw-0/journal", null, "viewer"),
          new Endpoint("GET", "/api/v1/bundles", null, "viewer"),
          new Endpoint("GET", "/api/v1/bundles/none", null, "viewer"),
          new Endpoint("GET", "/api/v1/rollouts", null, "viewer"),
          new Endpoint("GET", "/api/v1/rollouts/none", null, "viewer"),
          new Endpoint("GET", "/api/v1/rollouts/none/audit", null, "viewer"),
          new Endpoint(
              "POST",
              "/api/v1/nodes/gw-0/ask",
              "{\"question\":\"hi\",\"timeoutSeconds\":1}",
              "operator"),
          new Endpoint("POST", "/api/v1/rollouts/none/pause", "{\"reason\":\"r\"}", "operator"),
          new Endpoint("POST", "/api/v1/rollouts/none/resume", "{\"reason\":\"r\"}", "operator"),
          new Endpoint("POST", "/api/v1/rollouts/preview", "{}", "release-manager"),
          new Endpoint("POST", "/api/v1/rollouts", "{}", "release-manager"),
          new Endpoint(
              "POST", "/api/v1/nodes/gw-0/rollback", "{\"reason\":\"r\"}", "release-manager"),
          new Endpoint(
              "POST", "/api/v1/rollouts/none/approve", "{\"reason\":\"r\"}", "release-manager"),
          new Endpoint(
              "POST", "/api/v1/rollouts/none/abort", "{\"reason\":\"r\"}", "release-manager"),
          new Endpoint(
              "POST", "/api/v1/rollouts/none/rollback", "{\"reason\":\"r\"}", "release-manager"),
          new Endpoint("POST", "/api/v1/bundles", "multipart", "release-manager"),
          new Endpoint("GET", "/api/v1/uploads/none-such-upload", null, "release-manager"),
          new Endpoint("DELETE", "/api/v1/bundles/none", null, "admin"),
          new Endpoint("GET", "/api/v1/tokens", null, "admin"),
          new Endpoint(
              "POST", "/api/v1/tokens", "{\"name\":\"probe\",\"role\":\"viewer\"}", "admin"),
          new Endpoint("DELETE", "/api/v1/tokens/none", null, "admin"));

  static final List<String> ROLES = List.of("viewer", "operator", "release-manager", "admin");

  Http.Reply call(Endpoint e, String token) throws Exception {
    if ("multipart".equals(e.body())) {
      Path f = Files.writeString(Files.createTempFile("part", ".txt"), "x");
      return http.upload(e.path(), token, List.of(f));
    }
    return http.send(e.method(), e.path(), token, e.body());
  }

  @Test
  void everyEndpoint_enforcesItsLeastRole() throws Exception {
    List<String> failures = new ArrayList<>();
    for (Endpoint e : ENDPOINTS) {
      Http.Reply anonymous = call(e, null);
      if (anonymous.status() != 401
          || !anonymous.contentType().startsWith("application/problem+json")) {
        failures.add(e + " without token: " + anonymous.status() + " " + anonymous.body());
      }
      int least = ROLES.indexOf(e.role());
      for (int i = 0; i < ROLES.size(); i++) {
        Http.Reply r = call(e, TOKENS.get(ROLES.get(i)));
        boolean refused = r.status() == 401 || r.status() == 403;
        if (i < least && r.status() != 403) {
          failures.add(e + " as " + ROLES.get(i) + ": expected 403, got " + r.status());
        }
        if (i >= least && refused) {
          failures.add(e + " as " + ROLES.get(i) + ": refused with " + r.status() + " " + r.body());
        }
      }
      http.send("DELETE", "/api/v1/tokens/probe", TOKENS.get("admin"), null);
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void forbidden_isProblemDetailsNamingTheRoles() throws Exception {
    Http.Reply r = http.send("DELETE", "/api/v1/bundles/none", TOKENS.get("operator"), null);
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.contentType()).startsWith("application/problem+json");
    JsonNode p = r.json();
    assertThat(p.get("type").asText()).isEqualTo("https://edgeslm.io/problems/forbidden");
    assertThat(p.get("status").asInt()).isEqualTo(403);
    assertThat(p.get("detail").asText())
        .isEqualTo(
            "Token 't-operator' has role 'operator'; this endpoint needs 'admin' or higher. Use a"
                + " token with that role.");
    assertThat(p.get("instance").asText()).isEqualTo("/api/v1/bundles/none");
  }

  @Test
  void notFoundAndBadInput_areProblemDetails() throws Exception {
    Http.Reply missing = http.get("/api/v1/nodes/nope", TOKENS.get("viewer"));
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.json().get("type").asText())
        .isEqualTo("https://edgeslm.io/problems/not-found");
    assertThat(missing.json().get("detail").asText())
        .isEqualTo(
            "No node 'nope' is registered. Nodes appear when they publish their birth message.");

    Http.Reply badLimit = http.get("/api/v1/nodes?limit=0", TOKENS.get("viewer"));
    assertThat(badLimit.status()).isEqualTo(400);
    assertThat(badLimit.json().get("detail").asText())
        .isEqualTo("limit must be between 1 and 500: got 0. Page with 'after' instead.");

    Http.Reply badPlan =
        http.send(
            "POST",
            "/api/v1/rollouts",
            TOKENS.get("release-manager"),
            "{\"name\":\"x\",\"bundleId\":\"none\",\"waves\":[{\"count\":1,\"percent\":5}]}");
    assertThat(badPlan.status()).isEqualTo(400);
    assertThat(badPlan.contentType()).startsWith("application/problem+json");
    assertThat(badPlan.json().get("detail").asText())
        .isEqualTo(
            "a wave has either a count or a percent: got both. Write {\"count\":5} for a canary"
                + " or {\"percent\":25} for a share.");
  }

  @Test
  void nodes_pageWithTheNextCursorAndFilter() throws Exception {
    String viewer = TOKENS.get("viewer");
    List<String> seen = new ArrayList<>();
    String after = null;
    int pages = 0;
    do {
      Http.Reply r =
          http.get("/api/v1/nodes?limit=3" + (after == null ? "" : "&after=" + after), viewer);
      assertThat(r.status()).isEqualTo(200);
      r.json().get("items").forEach(n -> seen.add(n.get("nodeId").asText()));
      after = r.json().get("next").isNull() ? null : r.json().get("next").asText();
      pages++;
    } while (after != null);
    assertThat(seen).containsExactly("gw-0", "gw-1", "gw-2", "gw-3", "gw-4", "gw-5", "gw-6");
    assertThat(pages).isEqualTo(3);
    JsonNode lineA = http.get("/api/v1/nodes?label=line%3Da", viewer).json().get("items");
    assertThat(lineA).hasSize(3);
    JsonNode summary = http.get("/api/v1/fleet", viewer).json();
    assertThat(summary.get("nodesByModel").get("phi-mini v1").asLong()).isEqualTo(7);
  }

  @Test
  void uploadAndRollout_throughTheApi_areAuditedWithTheTokenNames() throws Exception {
    Path dir = Files.createTempDirectory("api-bundles");
    Path good = TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 5, 5000);
    String rm = TOKENS.get("release-manager");
    Http.Reply up = http.upload("/api/v1/bundles", rm, files(good), "api-test-good-1");
    assertThat(up.status()).as(up.body()).isEqualTo(201);
    String bundleId = up.json().get("bundleId").asText();

    Path bad = TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 6, 5000);
    byte[] w = Files.readAllBytes(bad.resolve("model.gguf"));
    w[100] ^= 1;
    Files.write(bad.resolve("model.gguf"), w);
    Http.Reply rejected = http.upload("/api/v1/bundles", rm, files(bad), "api-test-bad-1");
    assertThat(rejected.status()).isEqualTo(422);
    assertThat(rejected.json().get("type").asText())
        .isEqualTo("https://edgeslm.io/problems/bundle-rejected");
    assertThat(rejected.json().get("detail").asText())
        .startsWith("The bundle failed verification against the controller's trust store: ")
        .contains("model.gguf")
        .doesNotContain("/.staging/");

    // The controller's own progress of each upload, by the client's Upload-Id.
    JsonNode stored = http.get("/api/v1/uploads/api-test-good-1", rm).json();
    assertThat(stored.get("phase").asText()).isEqualTo("STORED");
    assertThat(stored.get("bundleId").asText()).isEqualTo(bundleId);
    assertThat(stored.get("bytesTotal").asLong())
        .isEqualTo(up.json().get("totalBytes").asLong())
        .isEqualTo(stored.get("bytesDone").asLong());
    JsonNode refused = http.get("/api/v1/uploads/api-test-bad-1", rm).json();
    assertThat(refused.get("phase").asText()).isEqualTo("REJECTED");
    assertThat(refused.get("detail").asText()).isEqualTo(rejected.json().get("detail").asText());
    Http.Reply badId = http.upload("/api/v1/bundles", rm, files(good), "../x");
    assertThat(badId.status()).isEqualTo(400);
    assertThat(badId.json().get("detail").asText())
        .isEqualTo(
            "Upload-Id must be 8 to 64 characters of A-Z a-z 0-9 . _ - (starting with a letter or"
                + " digit): got '../x'. Use a random id such as a UUID.");

    Http.Reply created =
        http.send(
            "POST",
            "/api/v1/rollouts",
            rm,
            "{\"id\":\"r-api\",\"name\":\"api\",\"bundleId\":\""
                + bundleId
                + "\",\"selector\":{\"labels\":{\"line\":\"zzz\"}},"
                + "\"waves\":[{\"count\":1,\"approval\":false},{\"percent\":100,\"approval\":true}],"
                + "\"thresholds\":{\"successPercent\":100,\"errorPercent\":0,\"onErrors\":\"PAUSE\","
                + "\"resultTimeout\":\"PT10M\"}}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    assertThat(created.json().get("status").asText()).isEqualTo("RUNNING");
    // The stored plan answers durations as they were written: ISO-8601 text, not seconds.
    assertThat(created.json().at("/plan/thresholds/resultTimeout").asText()).isEqualTo("PT10M");
    assertThat(
            http.get("/api/v1/rollouts/r-api", TOKENS.get("viewer"))
                .json()
                .at("/plan/thresholds/resultTimeout")
                .asText())
        .isEqualTo("PT10M");

    assertThat(
            http.send(
                    "POST",
                    "/api/v1/rollouts/r-api/pause",
                    TOKENS.get("operator"),
                    "{\"reason\":\"shift change\"}")
                .status())
        .isEqualTo(200);
    Http.Reply again =
        http.send(
            "POST",
            "/api/v1/rollouts/r-api/pause",
            TOKENS.get("operator"),
            "{\"reason\":\"twice\"}");
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.json().get("type").asText()).isEqualTo("https://edgeslm.io/problems/conflict");
    Http.Reply noReason =
        http.send("POST", "/api/v1/rollouts/r-api/resume", TOKENS.get("operator"), "{}");
    assertThat(noReason.status()).isEqualTo(400);
    assertThat(
            http.send("POST", "/api/v1/rollouts/r-api/abort", rm, "{\"reason\":\"test over\"}")
                .json()
                .get("status")
                .asText())
        .isEqualTo("ABORTED");
    JsonNode audit = http.get("/api/v1/rollouts/r-api/audit", TOKENS.get("viewer")).json();
    List<String> entries = new ArrayList<>();
    audit.forEach(e -> entries.add(e.get("actor").asText() + ":" + e.get("action").asText()));
    assertThat(entries)
        .containsSubsequence(
            "t-release-manager:created", "t-operator:paused", "t-release-manager:aborted");

    Http.Reply inUse =
        http.send("DELETE", "/api/v1/bundles/" + bundleId, TOKENS.get("admin"), null);
    assertThat(inUse.status()).isEqualTo(409);
    assertThat(
            http.get("/api/v1/bundles/" + bundleId, TOKENS.get("viewer"))
                .json()
                .get("model")
                .get("version")
                .asLong())
        .isEqualTo(5);
  }

  @Test
  void rolloutPreview_countsAndListsTheNodesThePlanReaches_storesNothing_andRefusesViewers()
      throws Exception {
    Path dir = Files.createTempDirectory("api-preview");
    String rm = TOKENS.get("release-manager");
    String bundleId =
        uploaded(
            TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 21, 3000),
            rm,
            "api-test-preview-1");
    Instant at = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    var nodes = bean.controller().nodes();
    nodes.recordStatus("plant-1", "gw-0", io.edgeslm.protocol.NodeStatus.online(at), at);
    nodes.recordStatus("plant-1", "gw-1", io.edgeslm.protocol.NodeStatus.online(at), at);
    nodes.recordStatus("plant-1", "gw-2", io.edgeslm.protocol.NodeStatus.shutdown(at), at);
    long rollouts = http.get("/api/v1/rollouts", rm).json().get("items").size();
    String plan =
        "{\"bundleId\":\""
            + bundleId
            + "\",\"selector\":{\"labels\":{\"line\":\"a\"}},"
            + "\"waves\":[{\"count\":1},{\"percent\":100,\"approval\":true}]}";
    // A preview lists nodes for planning, so it needs the role that creates the rollout.
    for (String lesser : List.of("viewer", "operator")) {
      Http.Reply refused = http.send("POST", "/api/v1/rollouts/preview", TOKENS.get(lesser), plan);
      assertThat(refused.status()).as(refused.body()).isEqualTo(403);
      assertThat(refused.contentType()).startsWith("application/problem+json");
      assertThat(refused.json().get("detail").asText())
          .isEqualTo(
              "Token 't-"
                  + lesser
                  + "' has role '"
                  + lesser
                  + "'; this endpoint needs 'release-manager' or higher. Use a token with that"
                  + " role.");
    }
    try {
      Http.Reply r = http.send("POST", "/api/v1/rollouts/preview", rm, plan);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      JsonNode p = r.json();
      assertThat(p.get("matched").asInt()).isEqualTo(3);
      assertThat(p.get("toUpdate").asInt()).isEqualTo(3);
      assertThat(p.get("alreadyServing").asInt()).isZero();
      assertThat(p.get("offline").asInt()).isEqualTo(1);
      assertThat(p.get("waves").toString()).isEqualTo("[1,1]");
      assertThat(p.get("truncated").asBoolean()).isFalse();
      List<String> listed = new ArrayList<>();
      p.get("nodes")
          .forEach(
              c -> listed.add(c.get("node").get("nodeId").asText() + ":" + c.get("fate").asText()));
      assertThat(listed).containsExactly("gw-0:UPDATE", "gw-1:UPDATE", "gw-2:OFFLINE");

      Http.Reply bad =
          http.send(
              "POST",
              "/api/v1/rollouts/preview",
              rm,
              "{\"bundleId\":\"" + bundleId + "\",\"waves\":[{\"count\":1}]}");
      assertThat(bad.status()).isEqualTo(400);
      assertThat(bad.json().get("detail").asText())
          .startsWith("the last wave must reach 100 percent");
      Http.Reply noBundle =
          http.send("POST", "/api/v1/rollouts/preview", rm, "{\"waves\":[{\"percent\":100}]}");
      assertThat(noBundle.status()).isEqualTo(400);
      assertThat(noBundle.json().get("detail").asText()).startsWith("bundleId is required");
      assertThat(http.get("/api/v1/rollouts", rm).json().get("items").size()).isEqualTo(rollouts);
    } finally {
      Instant now = Instant.now();
      nodes.recordStatus("plant-1", "gw-2", io.edgeslm.protocol.NodeStatus.online(now), now);
    }
  }

  @Test
  void nodeRollback_sendsTheNodeARollbackCommand_andRefusesWithProblemDetails() throws Exception {
    String rm = TOKENS.get("release-manager");
    try (QuestionResponder node = new QuestionResponder(mqttUri, "plant-1", "gw-5").connect()) {
      Http.Reply sent =
          http.send(
              "POST",
              "/api/v1/nodes/gw-5/rollback",
              rm,
              "{\"reason\":\"wrong answers on line b\"}");
      assertThat(sent.status()).as(sent.body()).isEqualTo(202);
      String commandId = sent.json().get("commandId").asText();
      assertThat(commandId).startsWith("rb.gw-5.");
      io.edgeslm.protocol.UpdateCommand c = node.nextCommand(Duration.ofSeconds(30));
      assertThat(c.action()).isEqualTo(io.edgeslm.protocol.CommandAction.ROLLBACK);
      assertThat(c.commandId()).isEqualTo(commandId);
      assertThat(c.assignmentId()).isNull();
      assertThat(c.reason()).isEqualTo("t-release-manager: wrong answers on line b");
    }

    Http.Reply noReason = http.send("POST", "/api/v1/nodes/gw-5/rollback", rm, "{}");
    assertThat(noReason.status()).isEqualTo(400);
    assertThat(noReason.json().get("detail").asText())
        .isEqualTo(
            "A reason is required for a node rollback: send {\"reason\":\"...\"}. The node keeps"
                + " it in its journal with the result.");
    Http.Reply unknown =
        http.send("POST", "/api/v1/nodes/gw-nope/rollback", rm, "{\"reason\":\"r\"}");
    assertThat(unknown.status()).isEqualTo(404);

    Instant at = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    var nodes = bean.controller().nodes();
    nodes.recordStatus("plant-1", "gw-2", io.edgeslm.protocol.NodeStatus.shutdown(at), at);
    try {
      Http.Reply offline =
          http.send("POST", "/api/v1/nodes/gw-2/rollback", rm, "{\"reason\":\"r\"}");
      assertThat(offline.status()).isEqualTo(503);
      assertThat(offline.json().get("type").asText())
          .isEqualTo("https://edgeslm.io/problems/node-offline");
      assertThat(offline.json().get("detail").asText())
          .isEqualTo(
              "Node 'gw-2' is offline (shutdown) since "
                  + at
                  + ": a rollback command is not kept for it. Send it again when the node is back"
                  + " online.");
    } finally {
      Instant now = Instant.now();
      nodes.recordStatus("plant-1", "gw-2", io.edgeslm.protocol.NodeStatus.online(now), now);
    }

    // A newer birth wins, so gw-6 is given its model back with a still newer one afterwards.
    rebirth("gw-6", null);
    try {
      Http.Reply rulesOnly =
          http.send("POST", "/api/v1/nodes/gw-6/rollback", rm, "{\"reason\":\"r\"}");
      assertThat(rulesOnly.status()).isEqualTo(409);
      assertThat(rulesOnly.json().get("detail").asText())
          .isEqualTo(
              "Node 'gw-6' serves no model (it answers with rules only): there is nothing to roll"
                  + " back.");
    } finally {
      Thread.sleep(2); // a later birth time than the rules-only one
      rebirth("gw-6", ModelRef.of("phi-mini", 1, "sha256:" + "a".repeat(64)));
    }
  }

  /** Records a birth of {@code node} on line b, now, serving {@code model} (null: rules only). */
  void rebirth(String node, ModelRef model) throws Exception {
    Instant at = Instant.now();
    bean.controller()
        .nodes()
        .recordBirth(
            "plant-1",
            node,
            new NodeBirth(
                Protocol.SCHEMA_VERSION,
                "0.1.0",
                "amd64",
                "gw-8g",
                8L << 30,
                Map.of("line", "b"),
                model,
                null,
                at,
                at),
            at);
  }

  @Test
  void adapterRollout_toNodesServingAnotherBase_refusedNamingThemAndTheBase() throws Exception {
    Path dir = Files.createTempDirectory("api-adapters");
    String rm = TOKENS.get("release-manager");
    String servedBase = "sha256:" + "a".repeat(64);
    String otherBase = "sha256:" + "e".repeat(64);
    Path wrong =
        TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini-lora", 1, 3000, otherBase);
    String wrongId = uploaded(wrong, rm, "api-test-lora-1");

    Http.Reply refused =
        http.send("POST", "/api/v1/rollouts", rm, adapterPlan("r-lora-1", wrongId));

    assertThat(refused.status()).as(refused.body()).isEqualTo(409);
    assertThat(refused.contentType()).startsWith("application/problem+json");
    assertThat(refused.json().get("type").asText())
        .isEqualTo("https://edgeslm.io/problems/conflict");
    assertThat(refused.json().get("detail").asText())
        .isEqualTo(
            "Bundle '"
                + wrongId
                + "' is a LoRA adapter for base model "
                + otherBase
                + ", but 3 nodes the selector matches serve another base: gw-0 ("
                + servedBase
                + "), gw-1 ("
                + servedBase
                + "), gw-2 ("
                + servedBase
                + "). Roll the base model out to them first, or narrow the selector.");
    assertThat(http.get("/api/v1/rollouts/r-lora-1", rm).status()).isEqualTo(404);

    Path right =
        TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini-lora", 2, 3000, servedBase);
    String rightId = uploaded(right, rm, "api-test-lora-2");
    Http.Reply created =
        http.send("POST", "/api/v1/rollouts", rm, adapterPlan("r-lora-2", rightId));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    assertThat(
            http.send("POST", "/api/v1/rollouts/r-lora-2/abort", rm, "{\"reason\":\"test over\"}")
                .status())
        .isEqualTo(200);
  }

  private static String adapterPlan(String id, String bundleId) {
    return "{\"id\":\""
        + id
        + "\",\"name\":\"lora\",\"bundleId\":\""
        + bundleId
        + "\",\"selector\":{\"labels\":{\"line\":\"a\"}},"
        + "\"waves\":[{\"count\":1,\"approval\":true},{\"percent\":100,\"approval\":true}],"
        + "\"thresholds\":{\"successPercent\":100,\"errorPercent\":0,\"onErrors\":\"PAUSE\","
        + "\"resultTimeout\":\"PT10M\"}}";
  }

  @Test
  void fleetctl_uploadsCreatesAndDrivesARollout() throws Exception {
    Path dir = Files.createTempDirectory("cli-bundles");
    Path bundle = TestBundles.signed(dir, ControllerTestResource.KEY, "phi-cli", 1, 40_000);
    String url = base.toString();
    String rm = TOKENS.get("release-manager");

    Cli upload = cli("--url", url, "--token", rm, "upload", bundle.toString());
    assertThat(upload.code()).as(upload.err()).isZero();
    // Progress on stderr, so a script's $(fleetctl bundle upload DIR) is the bundle id alone.
    assertThat(upload.err())
        .containsPattern("uploading 100% of \\d+\\.\\d kB, \\d+\\.\\d (B|kB|MB|GB)/s\n")
        .containsPattern("controller: verified and stored \\d+\\.\\d kB in \\d+\\.\\d s\n");
    assertThat(upload.out()).matches("phi-cli-v1-[0-9a-f]+\n");
    String bundleId = upload.lastLine();
    assertThat(bundleId).startsWith("phi-cli-v1-");

    Cli create =
        cli(
            "--url",
            url,
            "--token",
            rm,
            "rollout",
            "create",
            "--bundle",
            bundleId,
            "--name",
            "cli",
            "--id",
            "r-cli",
            "--wave",
            "1",
            "--wave",
            "100%!",
            "--label",
            "line=none");
    assertThat(create.code()).as(create.err()).isZero();
    assertThat(create.out()).isEqualTo("r-cli\n");
    assertThat(create.err())
        .isEqualTo("Rollout r-cli created; follow it with: fleetctl rollout get r-cli\n");

    Cli status = cli("--url", url, "--token", TOKENS.get("viewer"), "rollout", "status", "r-cli");
    assertThat(status.out()).startsWith("r-cli  ").contains("phi-cli v1").contains("  wave 1  ");

    Cli refused =
        cli(
            "--url",
            url,
            "--token",
            TOKENS.get("viewer"),
            "rollout",
            "pause",
            "r-cli",
            "--reason",
            "x");
    assertThat(refused.code()).isEqualTo(4);
    assertThat(refused.err())
        .isEqualTo(
            "fleetctl: the controller refused the token (HTTP 403: Token 't-viewer' has role"
                + " 'viewer'; this endpoint needs 'operator' or higher. Use a token with that"
                + " role.).\n");

    listsAndShows_asAProcess(bundleId, dir);

    Cli abort =
        cli("--url", url, "--token", rm, "rollout", "abort", "r-cli", "--reason", "cli test");
    assertThat(abort.code()).as(abort.err()).isZero();
    assertThat(abort.out()).startsWith("r-cli  aborted");

    String viewer = TOKENS.get("viewer");
    JsonNode aborted = fleetctlJson(viewer, "rollout", "list", "--status", "aborted");
    assertThat(ids(aborted.get("items"), "id")).contains("r-cli");
    JsonNode running = fleetctlJson(viewer, "rollout", "list", "--status", "running");
    assertThat(ids(running.get("items"), "id")).doesNotContain("r-cli");
  }

  /**
   * {@code node get}, {@code bundle list}, {@code bundle get} and {@code rollout list}, run as the
   * packaged {@code fleetctl} process with a viewer's token while rollout r-cli waits: a table for
   * people and the controller's own document with {@code --json}, both on stdout with nothing on
   * stderr; what is not a result (more pages, a refusal) on stderr only.
   */
  void listsAndShows_asAProcess(String bundleId, Path dir) throws Exception {
    String viewer = TOKENS.get("viewer");
    String rm = TOKENS.get("release-manager");

    Cli node = fleetctl(viewer, "node", "get", "gw-0");
    assertThat(node.code()).as(node.err()).isZero();
    assertThat(node.err()).isEmpty();
    assertThat(node.out().lines())
        .contains(
            "node       gw-0",
            "site       plant-1",
            "model      phi-mini v1",
            "agent      0.1.0",
            "arch       amd64 gw-8g",
            "ram        8.0 GiB",
            "labels     line=a")
        .anyMatch(l -> l.matches("status     (online|offline|unknown).*"))
        .anyMatch(l -> l.matches("booted     \\d+ d ago"))
        .hasSize(10);
    JsonNode nodeJson = fleetctlJson(viewer, "node", "get", "gw-0");
    assertThat(nodeJson.get("nodeId").asText()).isEqualTo("gw-0");
    assertThat(nodeJson.get("ramBytes").asLong()).isEqualTo(8L << 30);
    assertThat(nodeJson.get("labels").toString()).isEqualTo("{\"line\":\"a\"}");
    Cli noNode = fleetctl(viewer, "node", "get", "nope");
    assertThat(noNode.code()).isEqualTo(1);
    assertThat(noNode.out()).isEmpty();
    assertThat(noNode.err())
        .isEqualTo(
            "fleetctl: the controller refused the request (HTTP 404: No node 'nope' is registered."
                + " Nodes appear when they publish their birth message.).\n");

    // A second bundle, so that a one-row page has more after it.
    String secondId =
        uploaded(
            TestBundles.signed(dir, ControllerTestResource.KEY, "phi-cli", 2, 3000),
            rm,
            "api-test-cli-2");
    Cli bundles = fleetctl(viewer, "bundle", "list", "--limit", "500");
    assertThat(bundles.code()).as(bundles.err()).isZero();
    assertThat(bundles.err()).isEmpty();
    List<String> bundleRows = bundles.out().lines().toList();
    assertThat(bundleRows.get(0)).matches("BUNDLE +MODEL +SIZE +FILES +UPLOADED BY +UPLOADED");
    assertThat(bundleRows)
        .anyMatch(
            l ->
                l.matches(
                    java.util.regex.Pattern.quote(bundleId)
                        + " +phi-cli v1 +4\\d\\.\\d kB +3 +t-release-manager +(\\d+ (s|min|h) ago|just now)"));
    JsonNode bundlePage = fleetctlJson(viewer, "bundle", "list", "--limit", "500");
    assertThat(bundleRows).hasSize(1 + bundlePage.get("items").size());
    assertThat(ids(bundlePage.get("items"), "bundleId")).contains(bundleId, secondId);
    Cli onePage = fleetctl(viewer, "bundle", "list", "--limit", "1");
    assertThat(onePage.code()).as(onePage.err()).isZero();
    assertThat(onePage.out().lines()).hasSize(2);
    String firstId = onePage.out().lines().toList().get(1).split(" ")[0];
    assertThat(onePage.err())
        .isEqualTo("(more after " + firstId + "; raise --limit or use --json)\n");

    Cli bundle = fleetctl(viewer, "bundle", "get", bundleId);
    assertThat(bundle.code()).as(bundle.err()).isZero();
    assertThat(bundle.err()).isEmpty();
    String digest =
        http.get("/api/v1/bundles/" + bundleId, viewer).json().at("/model/digest").asText();
    List<String> shown = bundle.out().lines().toList();
    assertThat(shown).hasSize(8);
    assertThat(shown.subList(0, 5))
        .containsExactly(
            "bundle    " + bundleId,
            "model     phi-cli v1 " + digest,
            shown.get(2),
            "signers   " + ControllerTestResource.KEY.verificationKey().keyId(),
            shown.get(4));
    assertThat(shown.get(2)).matches("size      4\\d\\.\\d kB");
    assertThat(shown.get(4)).matches("uploaded  t-release-manager, (\\d+ (s|min|h) ago|just now)");
    assertThat(shown.subList(5, 8))
        .contains("file      model.gguf  40.0 kB")
        .anyMatch(l -> l.matches("file      model\\.sig  \\d+(\\.\\d kB| B)"))
        .anyMatch(l -> l.matches("file      release\\.json  \\d+(\\.\\d kB| B)"));
    JsonNode bundleJson = fleetctlJson(viewer, "bundle", "get", bundleId);
    assertThat(bundleJson.get("bundleId").asText()).isEqualTo(bundleId);
    assertThat(bundleJson.at("/model/version").asLong()).isEqualTo(1);
    assertThat(bundleJson.get("files")).hasSize(3);

    JsonNode r = fleetctlJson(viewer, "rollout", "get", "r-cli");
    String status = r.get("status").asText().toLowerCase(java.util.Locale.ROOT);
    Cli rollouts = fleetctl(viewer, "rollout", "list", "--status", status);
    assertThat(rollouts.code()).as(rollouts.err()).isZero();
    assertThat(rollouts.err()).isEmpty();
    List<String> rolloutRows = rollouts.out().lines().toList();
    assertThat(rolloutRows.get(0)).matches("ID +STATUS +MODEL +WAVE +NODES +WAITING +UPDATED");
    String waiting = r.get("waiting").asText();
    assertThat(rolloutRows)
        .anyMatch(
            l ->
                l.matches(
                    "r-cli +"
                        + status
                        + " +phi-cli v1 +"
                        + Math.min(r.get("currentWave").asInt() + 1, 2)
                        + "/2 +0 +"
                        + java.util.regex.Pattern.quote(waiting.isEmpty() ? "-" : waiting)
                        + " +(\\d+ (s|min|h) ago|just now)"));
    JsonNode rolloutPage = fleetctlJson(viewer, "rollout", "list", "--status", status);
    assertThat(rolloutRows).hasSize(1 + rolloutPage.get("items").size());
    assertThat(ids(rolloutPage.get("items"), "id")).contains("r-cli");
    Cli badStatus = fleetctl(viewer, "rollout", "list", "--status", "stuck");
    assertThat(badStatus.code()).isEqualTo(1);
    assertThat(badStatus.out()).isEmpty();
    assertThat(badStatus.err())
        .startsWith(
            "fleetctl: the controller refused the request (HTTP 400: status must be one of");
  }

  static List<String> ids(JsonNode items, String field) {
    List<String> out = new ArrayList<>();
    items.forEach(i -> out.add(i.get(field).asText()));
    return out;
  }

  /**
   * Runs the packaged {@code fleetctl} script (target/quarkus-app, built by the package phase
   * before the integration tests) as a process against this controller, with the URL and token in
   * its environment as a script would set them; stdout and stderr apart.
   */
  Cli fleetctl(String token, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("bash", Path.of("fleetctl").toAbsolutePath().toString()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile("fleetctl-", ".out");
    Path err = Files.createTempFile("fleetctl-", ".err");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().put("FLEET_URL", base.toString());
    pb.environment().put("FLEET_TOKEN", token);
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
      throw new AssertionError("fleetctl did not finish within 120 s: " + cmd);
    }
    try {
      return new Cli(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.delete(out);
      Files.delete(err);
    }
  }

  /** {@code fleetctl --json ARGS} as a process: must succeed, say nothing on stderr, print JSON. */
  JsonNode fleetctlJson(String token, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--json"));
    all.addAll(List.of(args));
    Cli r = fleetctl(token, all.toArray(String[]::new));
    assertThat(r.code()).as("fleetctl %s: %s", all, r.err()).isZero();
    assertThat(r.err()).as("stderr of fleetctl %s", all).isEmpty();
    assertThat(r.out()).as("stdout of fleetctl %s", all).endsWith("\n").hasLineCount(1);
    return Http.JSON.readTree(r.out());
  }

  record Cli(int code, String out, String err) {
    String lastLine() {
      String[] lines = out.strip().split("\n");
      return lines[lines.length - 1];
    }
  }

  static Cli cli(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    int code =
        io.edgeslm.fleet.internal.cli.FleetCtl.run(
            new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true), args);
    return new Cli(code, out.toString(), err.toString());
  }

  /** One server-sent event. */
  record Event(String name, JsonNode data) {}

  /** Reads server-sent events from a streamed response body, skipping comment lines. */
  static final class Events implements AutoCloseable {
    private final java.io.BufferedReader in;

    Events(java.io.InputStream body) {
      in =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(body, java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The next event, or null at the end of the stream. */
    Event next() throws Exception {
      String name = "message";
      StringBuilder data = new StringBuilder();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.isEmpty()) {
          if (!data.isEmpty()) {
            return new Event(name, Http.JSON.readTree(data.toString()));
          }
          continue;
        }
        if (line.startsWith("event:")) {
          name = line.substring(6).trim();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).trim());
        }
      }
      return null;
    }

    @Override
    public void close() throws Exception {
      in.close();
    }
  }

  Http.Streamed askStreamed(String node, String body) throws Exception {
    return http.stream("/api/v1/nodes/" + node + "/ask", TOKENS.get("operator"), body);
  }

  @Test
  void ask_streamed_relaysEachPartAsItArrives_thenTheAnswer() throws Exception {
    try (QuestionResponder node = new QuestionResponder(mqttUri, "plant-1", "gw-5").connect()) {
      var response =
          askStreamed(
              "gw-5", "{\"question\":\"What is the oil temperature?\",\"timeoutSeconds\":90}");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.contentType()).startsWith("text/event-stream");
      try (Events events = new Events(response.body())) {
        Event question = events.next();
        assertThat(question.name()).isEqualTo("question");
        assertThat(question.data().get("node").asText()).isEqualTo("gw-5");

        QuestionResponder.Incoming q = node.nextQuestion(Duration.ofSeconds(30));
        assertThat(q.question().question()).isEqualTo("What is the oil temperature?");
        assertThat(q.question().streamRequested()).isTrue();
        assertThat(q.question().id()).isEqualTo(question.data().get("id").asText());

        // Each part is read from the stream before the node sends the next reply: the relay
        // forwards parts as they arrive instead of collecting the answer.
        q.part("Press 3 oil is ");
        Event first = events.next();
        assertThat(first.name()).isEqualTo("part");
        assertThat(first.data().get("seq").asInt()).isZero();
        assertThat(first.data().get("text").asText()).isEqualTo("Press 3 oil is ");
        q.part("67.6 °C.");
        Event second = events.next();
        assertThat(second.data().get("seq").asInt()).isEqualTo(1);
        assertThat(second.data().get("text").asText()).isEqualTo("67.6 °C.");

        q.answer("Press 3 oil is 67.6 °C.");
        Event answer = events.next();
        assertThat(answer.name()).isEqualTo("answer");
        assertThat(answer.data().get("answer").asText()).isEqualTo("Press 3 oil is 67.6 °C.");
        assertThat(answer.data().get("source").asText()).isEqualTo("rules");
        assertThat(events.next()).as("the stream ends after the answer").isNull();
      }
    }
  }

  @Test
  void ask_streamed_lostParts_areNamedInAGapEventBeforeTheAnswer() throws Exception {
    try (QuestionResponder node = new QuestionResponder(mqttUri, "plant-1", "gw-6").connect()) {
      var response = askStreamed("gw-6", "{\"question\":\"Oil?\",\"timeoutSeconds\":90}");
      assertThat(response.statusCode()).isEqualTo(200);
      try (Events events = new Events(response.body())) {
        assertThat(events.next().name()).isEqualTo("question");
        QuestionResponder.Incoming q = node.nextQuestion(Duration.ofSeconds(30));
        q.part("Press ").lose("3 ").part("oil ").lose("is ").lose("hot");
        q.answerOfParts("Press 3 oil is hot");

        assertThat(events.next().data().get("text").asText()).isEqualTo("Press ");
        assertThat(events.next().data().get("text").asText()).isEqualTo("oil ");
        Event gap = events.next();
        assertThat(gap.name()).isEqualTo("gap");
        assertThat(gap.data().toString())
            .isEqualTo("{\"missing\":[1,3,4],\"missingCount\":3,\"parts\":5}");
        Event answer = events.next();
        assertThat(answer.name()).isEqualTo("answer");
        assertThat(answer.data().get("parts").asInt()).isEqualTo(5);
      }
    }
  }

  @Test
  void ask_questionOverTheProtocolLimit_isRefusedNamingTheLimit() throws Exception {
    String tooLong = "x".repeat(io.edgeslm.protocol.Question.MAX_QUESTION_CHARS + 1);
    Http.Reply r =
        http.send(
            "POST",
            "/api/v1/nodes/gw-0/ask",
            TOKENS.get("operator"),
            "{\"question\":\"" + tooLong + "\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("detail").asText())
        .isEqualTo(
            "question must be at most 1000 characters (the protocol's limit, which nodes share):"
                + " got 1001. Ask a shorter question.");
  }

  @Test
  void ask_nodeGoesOfflineMidAnswer_endsTheStreamWithNodeOffline() throws Exception {
    try (QuestionResponder node = new QuestionResponder(mqttUri, "plant-1", "gw-1").connect()) {
      var response = askStreamed("gw-1", "{\"question\":\"Oil?\",\"timeoutSeconds\":90}");
      try (Events events = new Events(response.body())) {
        assertThat(events.next().name()).isEqualTo("question");
        node.nextQuestion(Duration.ofSeconds(30)).part("Oil is ");
        assertThat(events.next().name()).isEqualTo("part");
        node.crash(); // the broker publishes the node's last will
        Event problem = events.next();
        assertThat(problem.name()).isEqualTo("problem");
        assertThat(problem.data().get("type").asText())
            .isEqualTo("https://edgeslm.io/problems/node-offline");
        assertThat(problem.data().get("detail").asText())
            .isEqualTo(
                "Node 'gw-1' went offline (connection lost) before it answered. Ask again when it"
                    + " is back online.");
        assertThat(events.next()).isNull();
      }
    }
    Instant now = Instant.now();
    bean.controller()
        .nodes()
        .recordStatus("plant-1", "gw-1", io.edgeslm.protocol.NodeStatus.online(now), now);
  }

  @Test
  void ask_busyNode_isAProblemEventInTheStreamAnd503WithRetryAfterInJson() throws Exception {
    try (QuestionResponder node = new QuestionResponder(mqttUri, "plant-1", "gw-4").connect()) {
      var response = askStreamed("gw-4", "{\"question\":\"Status?\",\"timeoutSeconds\":90}");
      try (Events events = new Events(response.body())) {
        assertThat(events.next().name()).isEqualTo("question");
        node.nextQuestion(Duration.ofSeconds(30)).busy(1500);
        Event problem = events.next();
        assertThat(problem.name()).isEqualTo("problem");
        assertThat(problem.data().get("type").asText())
            .isEqualTo("https://edgeslm.io/problems/node-busy");
        assertThat(problem.data().get("retryAfterMs").asLong()).isEqualTo(1500);
        assertThat(problem.data().get("detail").asText())
            .isEqualTo(
                "Node 'gw-4' is busy (busy): The question queue is full (8 waiting). Ask again"
                    + " after 1500 ms.");
        assertThat(events.next()).isNull();
      }

      var json =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return http.send(
                      "POST",
                      "/api/v1/nodes/gw-4/ask",
                      TOKENS.get("operator"),
                      "{\"question\":\"Status?\",\"timeoutSeconds\":90}");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      node.nextQuestion(Duration.ofSeconds(30)).busy(1500);
      Http.Reply r = json.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.contentType()).startsWith("application/problem+json");
      assertThat(r.json().get("type").asText()).isEqualTo("https://edgeslm.io/problems/node-busy");
      assertThat(r.json().get("code").asText()).isEqualTo("busy");
    }
  }

  @Test
  void ask_silentNode_timesOutWithAProblem() throws Exception {
    try (QuestionResponder node = new QuestionResponder(mqttUri, "plant-1", "gw-3").connect()) {
      var response = askStreamed("gw-3", "{\"question\":\"Anyone?\",\"timeoutSeconds\":1}");
      try (Events events = new Events(response.body())) {
        assertThat(events.next().name()).isEqualTo("question");
        Event problem = events.next();
        assertThat(problem.name()).isEqualTo("problem");
        assertThat(problem.data().get("type").asText())
            .isEqualTo("https://edgeslm.io/problems/node-timeout");
        assertThat(problem.data().get("detail").asText())
            .startsWith("Node 'gw-3' did not answer within 1 s");
        assertThat(events.next()).isNull();
      }
      // The node did receive it, with an expiry it can honour.
      assertThat(node.nextQuestion(Duration.ofSeconds(30)).question().expiresAt()).isNotNull();

      Http.Reply json =
          http.send(
              "POST",
              "/api/v1/nodes/gw-3/ask",
              TOKENS.get("operator"),
              "{\"question\":\"Anyone?\",\"timeoutSeconds\":1}");
      assertThat(json.status()).isEqualTo(504);
      assertThat(json.json().get("type").asText())
          .isEqualTo("https://edgeslm.io/problems/node-timeout");
    }
  }

  @Test
  void ask_offlineNode_isRefusedBeforeAnythingIsSent() throws Exception {
    Instant at = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    bean.controller()
        .nodes()
        .recordStatus("plant-1", "gw-2", io.edgeslm.protocol.NodeStatus.shutdown(at), at);
    var response = askStreamed("gw-2", "{\"question\":\"Hello?\"}");
    assertThat(response.statusCode()).isEqualTo(503);
    JsonNode p = Http.JSON.readTree(response.body().readAllBytes());
    assertThat(p.get("type").asText()).isEqualTo("https://edgeslm.io/problems/node-offline");
    assertThat(p.get("detail").asText())
        .isEqualTo(
            "Node 'gw-2' is offline (shutdown) since "
                + at
                + " and cannot answer. Ask again when it is back online.");
    bean.controller()
        .nodes()
        .recordStatus(
            "plant-1", "gw-2", io.edgeslm.protocol.NodeStatus.online(Instant.now()), Instant.now());
  }

  Http management() {
    return new Http(managementBase);
  }

  @Test
  void metricsHealthAndOpenApi_areServedOnTheManagementPortOnly() throws Exception {
    System.gc(); // a stale meter holds its object weakly: collect it so a leftover shows as NaN
    Http management = management();
    Http.Reply metrics = management.get("/q/metrics", null);
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("fleet_nodes{status=\"online\"}")
        .contains("fleet_heartbeats_stored_total")
        .contains("fleet_heartbeat_lag_p99_ms")
        .contains("fleet_chunk_bytes_served_total")
        .contains("fleet_outbox_pending")
        .contains("fleet_ask_open");
    // Each application registers its own meters: a meter left over from an earlier application
    // in this JVM would report the stopped controller's objects (NaN once they are collected).
    List<String> fleetValues = metrics.body().lines().filter(l -> l.startsWith("fleet_")).toList();
    assertThat(fleetValues).hasSizeGreaterThanOrEqualTo(10).noneMatch(l -> l.endsWith("NaN"));
    assertThat(management.get("/q/health/ready", null).body()).contains("\"mqtt\"");
    assertThat(management.get("/q/openapi", null).body())
        .contains("/api/v1/rollouts/{id}/rollback");
    // The public port (behind the Ingress) serves none of them.
    for (String path :
        List.of(
            "/q/metrics",
            "/q/health",
            "/q/health/ready",
            "/q/health/live",
            "/q/health/started",
            "/q/openapi",
            "/q/swagger-ui/")) {
      assertThat(http.get(path, null).status()).as("public %s", path).isEqualTo(404);
    }
  }

  /**
   * Requests for the documented outcomes no other test of this class meets: conflicts of each
   * rollout command, the commands that succeed, a duplicate bundle and token, unknown bundles in
   * plans, a bundle deleted, a node's error reply and the controller's own limit on open questions.
   */
  @Test
  void documentedOutcomes_notMetElsewhere_areMetHere() throws Exception {
    String rm = TOKENS.get("release-manager");
    String admin = TOKENS.get("admin");
    Path dir = Files.createTempDirectory("api-outcomes");
    Path bundle = TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 31, 3000);
    String bundleId = uploaded(bundle, rm, "api-test-outcome-1");
    expect(http.upload("/api/v1/bundles", rm, files(bundle)), 409, "conflict");

    String spare =
        uploaded(
            TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 32, 3000),
            rm,
            "api-test-outcome-2");
    expect(http.send("DELETE", "/api/v1/bundles/" + spare, admin, null), 204, null);
    expect(http.get("/api/v1/bundles/" + spare, rm), 404, "not-found");

    expect(
        http.send("POST", "/api/v1/rollouts", rm, adapterPlan("r-none", "none-such")),
        404,
        "not-found");
    expect(
        http.send("POST", "/api/v1/rollouts/preview", rm, adapterPlan("r-none", "none-such")),
        404,
        "not-found");

    expect(http.send("POST", "/api/v1/rollouts", rm, adapterPlan("r-cov", bundleId)), 201, null);
    expect(
        http.send("POST", "/api/v1/rollouts", rm, adapterPlan("r-cov", bundleId)), 409, "conflict");
    String reason = "{\"reason\":\"contract\"}";
    String operator = TOKENS.get("operator");
    expect(http.send("POST", "/api/v1/rollouts/r-cov/resume", operator, reason), 409, "conflict");
    expect(http.send("POST", "/api/v1/rollouts/r-cov/pause", operator, reason), 200, null);
    expect(http.send("POST", "/api/v1/rollouts/r-cov/resume", operator, reason), 200, null);
    expect(http.send("POST", "/api/v1/rollouts/r-cov/approve", rm, reason), 200, null);
    expect(http.send("POST", "/api/v1/rollouts/r-cov/approve", rm, reason), 409, "conflict");
    expect(http.send("POST", "/api/v1/rollouts/r-cov/abort", rm, reason), 200, null);
    expect(http.send("POST", "/api/v1/rollouts/r-cov/abort", rm, reason), 409, "conflict");
    expect(http.send("POST", "/api/v1/rollouts/r-cov/rollback", rm, reason), 200, null);
    expect(http.send("POST", "/api/v1/rollouts/r-cov/rollback", rm, reason), 409, "conflict");

    expect(
        http.send("POST", "/api/v1/tokens", admin, "{\"name\":\"t-viewer\",\"role\":\"viewer\"}"),
        409,
        "conflict");
    expect(
        http.send("POST", "/api/v1/tokens", admin, "{\"name\":\"../x\",\"role\":\"viewer\"}"),
        400,
        "invalid-request");

    expect(
        http.send("POST", "/api/v1/nodes/gw-nope/ask", operator, "{\"question\":\"Status?\"}"),
        404,
        "not-found");
    try (QuestionResponder node = new QuestionResponder(mqttUri, "plant-1", "gw-4").connect()) {
      var asked =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return http.send(
                      "POST",
                      "/api/v1/nodes/gw-4/ask",
                      operator,
                      "{\"question\":\"Status?\",\"timeoutSeconds\":90}");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      node.nextQuestion(Duration.ofSeconds(30))
          .error(io.edgeslm.protocol.ErrorCode.INTERNAL, "The model failed to load.");
      Http.Reply failed = asked.get(60, java.util.concurrent.TimeUnit.SECONDS);
      expect(failed, 502, "node-error");
      assertThat(failed.json().get("code").asText()).isEqualTo("internal");
    }

    // The controller's own limit on open questions: held open here, then one more is asked.
    var ask = bean.controller().ask();
    List<AutoCloseable> held = new ArrayList<>();
    try {
      var nobody = io.edgeslm.protocol.Topics.node("plant-1", "nobody-listens");
      while (ask.open() < io.edgeslm.fleet.internal.ask.AskService.MAX_PENDING) {
        held.add(ask.open(nobody, "held", Duration.ofSeconds(120)));
      }
      expect(
          http.send("POST", "/api/v1/nodes/gw-0/ask", operator, "{\"question\":\"Status?\"}"),
          503,
          "busy");
    } finally {
      for (AutoCloseable x : held) {
        x.close();
      }
    }
  }

  /** Requires {@code r} to have {@code status} and, unless null, problem type {@code key}. */
  static void expect(Http.Reply r, int status, String key) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    if (key != null) {
      assertThat(r.contentType()).startsWith("application/problem+json");
      assertThat(r.json().get("type").asText())
          .isEqualTo(io.edgeslm.fleet.internal.rest.Problem.TYPE_BASE + key);
    }
  }

  /**
   * The other direction of the OpenAPI contract, after every other test of the class: each
   * documented outcome (operation, status, problem type) was met by at least one request of the
   * run, save the few {@link OpenApiCheck#NOT_PRODUCIBLE} names with their reasons; and every
   * answer a request of the run received is one the document lists for its operation.
   */
  @Test
  @Order(Integer.MAX_VALUE)
  void openApi_everyDocumentedOutcome_isMetByARequestOfTheRun() throws Exception {
    Http.Reply d = new Http(managementBase).get("/q/openapi?format=json", null);
    assertThat(d.status()).as(d.body()).isEqualTo(200);
    OpenApiCheck check = new OpenApiCheck(d.json());
    java.util.Set<String> seen = new java.util.TreeSet<>();
    List<String> wrong = new ArrayList<>();
    List<Exchange> all;
    synchronized (exchanges()) {
      all = List.copyOf(exchanges());
    }
    for (Exchange x : all) {
      String op = check.operationOf(x.method(), x.path());
      if (op == null) {
        continue;
      }
      Http.Reply r = x.reply();
      String type =
          r.status() >= 400 && r.contentType().startsWith("application/problem+json")
              ? r.json().path("type").asText()
              : null;
      seen.add(OpenApiCheck.outcome(op, r.status(), type));
      String w = check.answer(op, x.method() + " " + x.path(), r);
      if (w != null) {
        wrong.add(w);
      }
    }
    assertThat(wrong).as("answers the document does not list").isEmpty();
    assertThat(check.uncovered(seen))
        .as("documented outcomes (%d exchanges recorded)", all.size())
        .isEmpty();
  }

  @Test
  void openApi_documentsEveryEndpointWithItsRole_andTheRunningApiAnswersAsDocumented()
      throws Exception {
    Http.Reply d = management().get("/q/openapi?format=json", null);
    assertThat(d.status()).as(d.body()).isEqualTo(200);
    OpenApiCheck check = new OpenApiCheck(d.json());
    assertThat(check.againstTheCode(OpenApiCheck.resourceClasses())).isEmpty();
    List<String> failures = new ArrayList<>();
    List<OpenApiCheck.Probe> probes = check.probes();
    for (OpenApiCheck.Probe p : probes) {
      String token = p.role() == null ? null : TOKENS.get(p.role());
      Http.Reply r =
          "multipart".equals(p.body())
              ? http.upload(
                  p.path(),
                  token,
                  List.of(Files.writeString(Files.createTempFile("part", ".txt"), "x")))
              : http.send(p.method(), p.path(), token, p.body());
      String wrong = check.answer(p, r);
      if (wrong != null) {
        failures.add(wrong);
      }
    }
    assertThat(failures).isEmpty();
    assertThat(check.operations()).hasSizeGreaterThanOrEqualTo(ENDPOINTS.size());
  }

  /** Uploads the bundle in {@code dir} as {@code token}; requires 201 Created; its bundle id. */
  private String uploaded(Path dir, String token, String uploadId) throws Exception {
    Http.Reply up = http.upload("/api/v1/bundles", token, files(dir), uploadId);
    assertThat(up.status()).as(up.body()).isEqualTo(201);
    return up.json().get("bundleId").asText();
  }

  static List<Path> files(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }
}
