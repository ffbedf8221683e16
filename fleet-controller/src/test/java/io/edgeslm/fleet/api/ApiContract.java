package io.edgeslm.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.fleet.TestBundles;
import io.edgeslm.fleet.internal.app.ControllerBean;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.Protocol;
import io.quarkus.test.common.http.TestHTTPResource;
import jakarta.inject.Inject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The REST API: roles on every endpoint, problem details, pagination, upload and rollouts. */
abstract class ApiContract {

  @TestHTTPResource("/")
  URI base;

  @Inject ControllerBean bean;

  Http http;
  static final Map<String, String> TOKENS = new java.util.concurrent.ConcurrentHashMap<>();

  @BeforeEach
  void setUp() throws Exception {
    http = new Http(base);
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
          new Endpoint("POST", "/api/v1/rollouts", "{}", "release-manager"),
          new Endpoint(
              "POST", "/api/v1/rollouts/none/approve", "{\"reason\":\"r\"}", "release-manager"),
          new Endpoint(
              "POST", "/api/v1/rollouts/none/abort", "{\"reason\":\"r\"}", "release-manager"),
          new Endpoint(
              "POST", "/api/v1/rollouts/none/rollback", "{\"reason\":\"r\"}", "release-manager"),
          new Endpoint("POST", "/api/v1/bundles", "multipart", "release-manager"),
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
    Http.Reply up = http.upload("/api/v1/bundles", rm, files(good));
    assertThat(up.status()).as(up.body()).isEqualTo(201);
    String bundleId = up.json().get("bundleId").asText();

    Path bad = TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 6, 5000);
    byte[] w = Files.readAllBytes(bad.resolve("model.gguf"));
    w[100] ^= 1;
    Files.write(bad.resolve("model.gguf"), w);
    Http.Reply rejected = http.upload("/api/v1/bundles", rm, files(bad));
    assertThat(rejected.status()).isEqualTo(422);
    assertThat(rejected.json().get("type").asText())
        .isEqualTo("https://edgeslm.io/problems/bundle-rejected");
    assertThat(rejected.json().get("detail").asText())
        .startsWith("The bundle failed verification against the controller's trust store: ")
        .contains("model.gguf")
        .doesNotContain("/.staging/");

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
  void fleetctl_uploadsCreatesAndDrivesARollout() throws Exception {
    Path dir = Files.createTempDirectory("cli-bundles");
    Path bundle = TestBundles.signed(dir, ControllerTestResource.KEY, "phi-cli", 1, 40_000);
    String url = base.toString();
    String rm = TOKENS.get("release-manager");

    Cli upload = cli("--url", url, "--token", rm, "upload", bundle.toString());
    assertThat(upload.code()).as(upload.err()).isZero();
    assertThat(upload.out()).contains("uploading 100% of");
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
    assertThat(create.lastLine()).isEqualTo("r-cli");

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
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err())
        .isEqualTo(
            "fleetctl: HTTP 403: Token 't-viewer' has role 'viewer'; this endpoint needs"
                + " 'operator' or higher. Use a token with that role.\n");

    Cli abort =
        cli("--url", url, "--token", rm, "rollout", "abort", "r-cli", "--reason", "cli test");
    assertThat(abort.code()).as(abort.err()).isZero();
    assertThat(abort.out()).startsWith("r-cli  aborted");
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

  @Test
  void metricsAndHealth_areServed() throws Exception {
    System.gc(); // a stale meter holds its object weakly: collect it so a leftover shows as NaN
    Http.Reply metrics = http.get("/q/metrics", null);
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("fleet_nodes{status=\"online\"}")
        .contains("fleet_heartbeats_stored_total")
        .contains("fleet_heartbeat_lag_p99_ms")
        .contains("fleet_chunk_bytes_served_total");
    // Each application registers its own meters: a meter left over from an earlier application
    // in this JVM would report the stopped controller's objects (NaN once they are collected).
    List<String> fleetValues = metrics.body().lines().filter(l -> l.startsWith("fleet_")).toList();
    assertThat(fleetValues).hasSizeGreaterThanOrEqualTo(10).noneMatch(l -> l.endsWith("NaN"));
    assertThat(http.get("/q/health/ready", null).body()).contains("\"mqtt\"");
    assertThat(http.get("/q/openapi", null).body()).contains("/api/v1/rollouts/{id}/rollback");
  }

  static List<Path> files(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }
}
