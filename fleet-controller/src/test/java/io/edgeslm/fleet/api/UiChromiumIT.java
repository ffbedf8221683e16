package io.edgeslm.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.Role;
import io.edgeslm.fleet.TestBundles;
import io.edgeslm.fleet.Wave;
import io.edgeslm.fleet.internal.app.ControllerBean;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.rollout.RolloutPlanRequest;
import io.edgeslm.fleet.internal.rollout.RolloutRunner;
import io.edgeslm.fleet.internal.store.BirthEvent;
import io.edgeslm.fleet.internal.store.HealthSample;
import io.edgeslm.fleet.internal.store.StatusEvent;
import io.edgeslm.fleet.sim.QuestionResponder;
import io.edgeslm.fleet.sim.VirtualNode;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Source;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Every UI page in headless Chromium (Debian's chromium + chromedriver over W3C WebDriver), signed
 * in through the login form, with a screenshot of each page in target/ui-screenshots/, against the
 * controller on PostgreSQL. One Chromium serves both tests; the second, a release manager's whole
 * flow with virtual nodes, runs after the first, whose node counts it would change.
 */
@QuarkusTest
@QuarkusTestResource(
    value = ControllerTestResource.class,
    restrictToAnnotatedClass = true,
    initArgs = @ResourceArg(name = "db", value = "postgresql"))
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UiChromiumIT {

  static WebDriver chromium;

  @BeforeAll
  static void startChromium() throws Exception {
    chromium = new WebDriver(Files.createTempDirectory("chromium-profile"));
  }

  @AfterAll
  static void stopChromium() {
    if (chromium != null) {
      chromium.close();
    }
  }

  @TestHTTPResource("/")
  URI base;

  @Inject ControllerBean bean;

  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "fleet.mqtt.uri")
  String mqttUri;

  static final Path SHOTS = Path.of("target/ui-screenshots");

  void seed() throws Exception {
    FleetController c = bean.controller();
    ModelRef m = ModelRef.of("phi-mini", 3, "sha256:" + "c".repeat(64));
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<BirthEvent> births = new ArrayList<>();
    List<StatusEvent> statuses = new ArrayList<>();
    List<HealthSample> health = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String id = "press-" + i;
      births.add(
          new BirthEvent(
              "plant-" + (i % 2),
              id,
              new NodeBirth(
                  Protocol.SCHEMA_VERSION,
                  "0.1.0",
                  i % 3 == 0 ? "aarch64" : "amd64",
                  "gw-8g",
                  8L << 30,
                  Map.of("line", "l" + (i % 3)),
                  i < 9 ? m : null,
                  null,
                  now,
                  now),
              now));
      statuses.add(
          new StatusEvent(
              "plant-" + (i % 2),
              id,
              i == 11 ? NodeStatus.shutdown(now) : NodeStatus.online(now),
              now));
      for (int k = 0; k < 48 && i < 9; k++) {
        Instant at = now.minus(Duration.ofMinutes(30L * k));
        health.add(
            new HealthSample(
                "plant-" + (i % 2),
                id,
                new NodeHealth(
                    Protocol.SCHEMA_VERSION,
                    at,
                    30,
                    true,
                    null,
                    Source.MODEL,
                    m,
                    18 + 4 * Math.sin(k / 4.0),
                    700L + 10 * k,
                    0,
                    100L * (48 - k),
                    k / 10,
                    1L << 30,
                    8L << 30,
                    10L << 30,
                    55.0,
                    0.93),
                at));
      }
    }
    c.nodes().recordBatch(births, statuses, health);
    Path dir = Files.createTempDirectory("ui-bundles");
    BundleInfo b =
        c.catalog()
            .upload(
                TestBundles.spool(
                    TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 4, 30_000)),
                "alice");
    c.runner()
        .create(
            "r-ui",
            new RolloutPlanRequest(
                null,
                "phi-mini v4 to line l1",
                b.bundleId(),
                null,
                List.of(Wave.count(2), Wave.percent(100).withApproval()),
                null,
                null,
                null),
            "alice");
  }

  /** Waits (up to 60 s, for a loaded machine) until the element shows exactly {@code expected}. */
  static void waitForText(WebDriver web, String css, String expected) throws Exception {
    String seen = null;
    for (int i = 0; i < 600; i++) {
      seen = web.text(css);
      if (expected.equals(seen)) {
        return;
      }
      Thread.sleep(100);
    }
    assertThat(seen).as("text of %s", css).isEqualTo(expected);
  }

  /** Signs in through the login form with {@code token} and waits for the overview. */
  static void signIn(WebDriver web, URI base, String token) throws Exception {
    web.open(base.resolve("/ui/login"));
    web.type("#token", token);
    web.click("#signin");
    for (int i = 0; i < 100 && !web.title().startsWith("Overview"); i++) {
      Thread.sleep(100); // the click returns before the redirect has loaded
    }
    assertThat(web.title()).isEqualTo("Overview · EdgeSLM fleet");
  }

  /**
   * Clicks a rollout command button with a reason, waits for the reloaded page whose audit trail
   * carries the reason, and checks the status it led to.
   */
  static void command(WebDriver web, String button, String reason, String status) throws Exception {
    command(web, button, reason);
    assertThat(web.text("#rollout-status")).isEqualTo(status);
  }

  /** Clicks a rollout command button with a reason and waits until the audit trail shows it. */
  static void command(WebDriver web, String button, String reason) throws Exception {
    web.clear("#reason");
    web.type("#reason", reason);
    web.click(button);
    String audit = "";
    for (int i = 0; i < 600 && !audit.contains(reason); i++) {
      Thread.sleep(100);
      try {
        audit = web.text("#audit");
      } catch (IllegalStateException reloading) {
        audit = ""; // the element went stale while the page reloaded
      }
    }
    assertThat(audit).as("audit trail after %s", button).contains(reason);
  }

  @Test
  @Order(1)
  void everyPage_rendersInChromium_withAScreenshot() throws Exception {
    seed();
    {
      WebDriver web = chromium;
      web.open(base.resolve("/ui"));
      assertThat(web.currentUrl()).endsWith("/ui/login");
      web.screenshot(SHOTS.resolve("01-login.png"));
      web.type("#token", "not-a-token");
      web.click("#signin");
      assertThat(web.text("#login-error"))
          .isEqualTo("That token is not known. Ask an admin for a token.");
      web.type("#token", ControllerTestResource.ADMIN_TOKEN);
      web.click("#signin");
      for (int i = 0; i < 100 && !web.title().startsWith("Overview"); i++) {
        Thread.sleep(100); // the click returns before the redirect has loaded
      }
      assertThat(web.title()).isEqualTo("Overview · EdgeSLM fleet");
      assertThat(web.text("#total")).isEqualTo("12");
      assertThat(web.text("#status-counts")).contains("online").contains("offline");
      assertThat(web.text("#models")).contains("phi-mini v3").contains("rules only");
      web.screenshot(SHOTS.resolve("02-overview.png"));

      web.open(base.resolve("/ui/nodes?status=online&label=line%3Dl0"));
      assertThat(web.count("#node-list tr")).isEqualTo(1 + 4);
      web.screenshot(SHOTS.resolve("03-nodes-filtered.png"));
      web.open(base.resolve("/ui/nodes"));
      assertThat(web.count("#node-list tr")).isEqualTo(1 + 12);
      web.screenshot(SHOTS.resolve("04-nodes.png"));

      web.open(base.resolve("/ui/nodes/press-1"));
      assertThat(web.text("#node-id")).isEqualTo("press-1");
      assertThat(web.count("#health-chart polyline")).isEqualTo(2);
      assertThat(web.text("#health-chart"))
          .contains("Tokens per second in tokens/s, last 24h")
          .contains("p95 latency in ms, last 24h");
      // Each chart: five value ticks, a time tick every 4 h, the unit and "time (UTC)".
      assertThat(web.count("#health-chart svg")).isEqualTo(2);
      assertThat(web.count("#health-chart svg text.unit")).isEqualTo(4);
      assertThat(web.count("#health-chart svg text.tick")).isBetween(2 * (5 + 6), 2 * (5 + 7));
      assertThat(web.text("#facts"))
          .contains("phi-mini v3")
          .contains("line=l1")
          .contains("8.0 GiB RAM")
          .doesNotContain("bytes");
      web.screenshot(SHOTS.resolve("05-node-detail.png"));

      // The ask box shows the node's answer part by part as the stream delivers it.
      try (QuestionResponder node =
          new QuestionResponder(mqttUri, "plant-1", "press-1").connect()) {
        web.type("#question", "What is the oil temperature of press 1?");
        web.click("#ask");
        QuestionResponder.Incoming q = node.nextQuestion(Duration.ofSeconds(30));
        assertThat(q.question().question()).isEqualTo("What is the oil temperature of press 1?");
        q.part("Press 1 oil is ");
        waitForText(web, "#answer-text", "Press 1 oil is"); // WebDriver trims
        assertThat(web.text("#answer-meta")).isEqualTo("Answering…");
        q.part("61.2 °C, normal.");
        waitForText(web, "#answer-text", "Press 1 oil is 61.2 °C, normal.");
        web.screenshot(SHOTS.resolve("05b-node-ask-streaming.png"));
        q.answer("Press 1 oil temperature is 61.2 °C, normal 40–80.");
        waitForText(web, "#answer-text", "Press 1 oil temperature is 61.2 °C, normal 40–80.");
        assertThat(web.text("#answer-meta")).isEqualTo("Source: rules, 42 ms");
      }

      // The range links redraw the charts: over 24 h a time tick every 4 h (HH:mm), over 7 d one
      // at each midnight (MM-dd, today's among them).
      String xTicks = "#health-chart svg text.tick[text-anchor='middle']";
      assertThat(web.texts(xTicks))
          .hasSizeBetween(2 * 6, 2 * 7)
          .allMatch(l -> l.matches("\\d{2}:\\d{2}"));
      web.click("#health-range a[href$='range=7d']");
      waitUntil(web, "#health-range strong", "7d"::equals);
      assertThat(web.currentUrl()).endsWith("/ui/nodes/press-1?range=7d");
      assertThat(web.text("#health-chart"))
          .contains("Tokens per second in tokens/s, last 7d")
          .contains("p95 latency in ms, last 7d")
          .doesNotContain("last 24h");
      String today =
          java.time.format.DateTimeFormatter.ofPattern("MM-dd")
              .format(java.time.LocalDate.now(java.time.ZoneOffset.UTC));
      assertThat(web.texts(xTicks))
          .hasSizeBetween(2 * 7, 2 * 8)
          .allMatch(l -> l.matches("\\d{2}-\\d{2}"))
          .contains(today);
      assertThat(web.count("#health-chart polyline")).isEqualTo(2);
      assertThat(web.count("#health-range a[href$='range=24h']")).isEqualTo(1);
      web.screenshot(SHOTS.resolve("05c-node-detail-7d.png"));

      web.open(base.resolve("/ui/rollouts"));
      assertThat(web.text("#rollout-list")).contains("r-ui").contains("phi-mini v4 to line l1");
      web.screenshot(SHOTS.resolve("06-rollouts.png"));

      web.open(base.resolve("/ui/rollouts/r-ui"));
      assertThat(web.text("#rollout-id")).isEqualTo("r-ui: phi-mini v4 to line l1");
      assertThat(web.count("#waves tr")).isEqualTo(1 + 2);
      assertThat(web.text("#audit")).contains("alice").contains("created");
      web.screenshot(SHOTS.resolve("07-rollout.png"));

      rolloutCommands_followTheRoles(web);

      web.open(base.resolve("/ui/bundles"));
      assertThat(web.text("#bundle-list"))
          .contains("phi-mini v4")
          .contains("stable")
          .contains("KiB")
          .contains(" UTC by alice")
          .doesNotContain("bytes");
      web.screenshot(SHOTS.resolve("08-bundles.png"));
    }
    try (var shots = Files.list(SHOTS)) {
      assertThat(shots.filter(p -> p.toString().endsWith(".png")).count()).isEqualTo(14);
    }
  }

  /**
   * A release manager approves the wave that waits, pauses and resumes from the rollout page; a
   * refusal shows the API's problem detail; an operator sees only pause and resume; a viewer sees
   * no buttons at all.
   */
  void rolloutCommands_followTheRoles(WebDriver web) throws Exception {
    FleetController c = bean.controller();
    Instant now = Instant.now();
    c.tokens().create("rita", Role.RELEASE_MANAGER, RELEASE_TOKEN, now);
    c.tokens().create("otto", Role.OPERATOR, OPERATOR_TOKEN, now);
    c.tokens().create("vera", Role.VIEWER, VIEWER_TOKEN, now);
    String bundle = c.catalog().list(null, 10).items().get(0).bundleId();
    c.runner()
        .create(
            "r-approve",
            new RolloutPlanRequest(
                null,
                "phi-mini v4, approved wave by wave",
                bundle,
                null,
                List.of(Wave.count(2).withApproval(), Wave.percent(100).withApproval()),
                null,
                null,
                null),
            "alice");

    signIn(web, base, RELEASE_TOKEN);
    web.open(base.resolve("/ui/rollouts/r-approve"));
    assertThat(web.text("#rollout-waiting")).isEqualTo("approval of wave 1 of 2");
    assertThat(web.count("#actions button")).isEqualTo(4);
    web.screenshot(SHOTS.resolve("07a-rollout-waits-for-approval.png"));

    // Without a reason the API refuses; the page shows its problem detail, not a stack trace.
    web.click("#approve");
    waitForText(
        web,
        "#action-error",
        "A reason is required for approve: send {\"reason\":\"...\"}. It is kept in the audit"
            + " trail.");
    web.screenshot(SHOTS.resolve("07b-rollout-refusal.png"));

    command(web, "#approve", "canary nodes checked", "RUNNING");
    assertThat(web.text("#audit")).contains("rita").contains("wave 1: canary nodes checked");
    command(web, "#pause", "line stop at 14:00", "PAUSED");
    web.screenshot(SHOTS.resolve("07c-rollout-paused.png"));
    // Pausing a paused rollout is refused with the engine's reason.
    web.clear("#reason");
    web.type("#reason", "again");
    web.click("#pause");
    for (int i = 0; i < 600 && web.text("#action-error").isEmpty(); i++) {
      Thread.sleep(100);
    }
    assertThat(web.text("#action-error")).contains("pause").doesNotContain("Exception");
    command(web, "#resume", "line running again", "RUNNING");
    assertThat(web.text("#audit")).contains("line stop at 14:00").contains("line running again");

    signIn(web, base, OPERATOR_TOKEN);
    web.open(base.resolve("/ui/rollouts/r-approve"));
    assertThat(web.count("#pause")).isEqualTo(1);
    assertThat(web.count("#resume")).isEqualTo(1);
    assertThat(web.count("#approve")).isZero();
    assertThat(web.count("#abort")).isZero();

    signIn(web, base, VIEWER_TOKEN);
    web.open(base.resolve("/ui/rollouts/r-approve"));
    assertThat(web.text("#rollout-status")).isEqualTo("RUNNING");
    assertThat(web.count("#actions")).isZero();
    assertThat(web.count("button")).isZero();
    web.screenshot(SHOTS.resolve("07d-rollout-viewer.png"));
    signIn(web, base, ControllerTestResource.ADMIN_TOKEN);
  }

  static final Path FLOW_SHOTS = SHOTS.resolve("release-flow");

  /** The visible text of the first element matching {@code css} now, or null if there is none. */
  static String textNow(WebDriver web, String css) throws Exception {
    return web.count(css) == 0 ? null : web.text(css);
  }

  /**
   * Reloads {@code page} until the element's text satisfies {@code condition} (up to 120 s, for a
   * loaded machine): the rollout and node pages are rendered by the server and do not refresh
   * themselves.
   */
  static String reloadUntil(
      WebDriver web, URI page, String css, java.util.function.Predicate<String> condition)
      throws Exception {
    String seen = null;
    for (int i = 0; i < 400; i++) {
      web.open(page);
      seen = textNow(web, css);
      if (seen != null && condition.test(seen)) {
        return seen;
      }
      Thread.sleep(300);
    }
    throw new AssertionError("text of " + css + " on " + page + " stayed '" + seen + "'");
  }

  /**
   * A release manager, in the browser only: uploads a tampered bundle (refused with the verifier's
   * reason) and a signed one (accepted, with the bytes sent), plans a two-wave rollout to four
   * virtual nodes with approval before wave 2 and previews the nodes it reaches, creates it; while
   * wave 2 waits an operator pauses and resumes it, and so does the release manager, who then
   * approves wave 2 and sees it complete; then rolls one node back from its page, and plans a
   * second rollout with the rest of the form (gate, thresholds, window) and aborts it. A viewer
   * sees none of these controls.
   */
  @Test
  @Order(2)
  void releaseManager_uploadsPlansApprovesPausesAndRollsBack_inTheBrowserOnly() throws Exception {
    WebDriver web = chromium;
    FleetController c = bean.controller();
    // Rollouts of the first test select every node; they must not pick up this test's nodes.
    for (var r : c.rollouts().list(null, null, 100).items()) {
      if (!r.status().isFinal()) {
        c.runner().command(r.id(), RolloutRunner.Command.ABORT, "test", "another test's turn");
      }
    }
    if (Files.isDirectory(FLOW_SHOTS)) {
      try (var old = Files.list(FLOW_SHOTS)) {
        for (Path p : old.toList()) {
          Files.delete(p); // an earlier run's screenshots, so that the count below is this run's
        }
      }
    }
    Instant now = Instant.now();
    c.tokens().create("rose", Role.RELEASE_MANAGER, "fct_test-flow-release-0123456789", now);
    c.tokens().create("vic", Role.VIEWER, "fct_test-flow-viewer-0123456789", now);
    c.tokens().create("oscar", Role.OPERATOR, "fct_test-flow-operator-0123456789", now);
    ModelRef old = ModelRef.of("phi-mini", 3, "sha256:" + "d".repeat(64));
    List<VirtualNode> fleet = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        VirtualNode n =
            new VirtualNode(mqttUri, "plant-flow", "flow-" + i, old, Map.of("line", "flow"));
        n.connect();
        fleet.add(n);
      }
      for (VirtualNode n : fleet) {
        for (int i = 0; i < 600; i++) {
          var row = c.nodes().node(n.nodeId());
          if (row.isPresent() && "online".equals(row.get().status()) && row.get().model() != null) {
            break;
          }
          Thread.sleep(100);
        }
      }
      Path dir = Files.createTempDirectory("ui-flow-bundles");
      Path good = TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 7, 40_000);
      Path bad = TestBundles.signed(dir, ControllerTestResource.KEY, "phi-mini", 8, 40_000);
      byte[] w = Files.readAllBytes(bad.resolve("model.gguf"));
      w[1000] ^= 1;
      Files.write(bad.resolve("model.gguf"), w);

      signIn(web, base, "fct_test-flow-release-0123456789");
      web.open(base.resolve("/ui/bundles"));
      web.type("#bundle-files", bundleFiles(bad));
      web.click("#upload");
      for (int i = 0; i < 600 && web.text("#upload-error").isEmpty(); i++) {
        Thread.sleep(100);
      }
      assertThat(web.text("#upload-error"))
          .startsWith(
              "Refused: The bundle failed verification against the controller's trust store: ")
          .contains("model.gguf")
          .doesNotContain("Exception");
      web.screenshot(FLOW_SHOTS.resolve("01-upload-refused.png"));

      web.open(base.resolve("/ui/bundles"));
      web.type("#bundle-files", bundleFiles(good));
      web.click("#upload");
      for (int i = 0; i < 600 && web.count("#upload-accepted") == 0; i++) {
        Thread.sleep(100);
      }
      assertThat(web.text("#upload-accepted"))
          .startsWith("Accepted: phi-mini v7 is stored as phi-mini-v7-")
          .contains("(3 files, ");
      assertThat(web.text("#upload-progress")).matches("Sent (.+) of \\1 \\(100%\\)");
      assertThat(web.text("#upload-error")).isEmpty();
      web.screenshot(FLOW_SHOTS.resolve("02-upload-accepted.png"));

      web.click("#create-rollout");
      for (int i = 0; i < 100 && !web.title().startsWith("New rollout"); i++) {
        Thread.sleep(100);
      }
      web.type("#name", "phi-mini v7 to line flow");
      web.type("#rollout-id-input", "r-flow");
      web.type("#labels", "line=flow");
      web.clear("#wave-1-size");
      web.type("#wave-1-size", "2");
      web.click("#wave-2-approval");
      web.click("#preview");
      waitForText(
          web,
          "#preview-summary",
          "4 nodes match: 4 to update (wave 1: 2, wave 2: 2 now), 0 already serve this model, 0"
              + " offline.");
      assertThat(web.count("#preview-nodes tr")).isEqualTo(1 + 4);
      assertThat(web.text("#preview-nodes")).contains("flow-0").contains("updated by a wave");
      web.scrollTo("#preview-summary");
      web.screenshot(FLOW_SHOTS.resolve("03-plan-preview.png"));

      // "new" would be shadowed by the page that creates rollouts, so the controller refuses it.
      web.clear("#rollout-id-input");
      web.type("#rollout-id-input", "new");
      web.click("#create");
      waitForText(
          web,
          "#plan-error",
          "Rollout id 'new' is reserved: /ui/rollouts/new is the page that creates rollouts."
              + " Choose another id, or leave it empty for a generated one.");
      web.clear("#rollout-id-input");
      web.type("#rollout-id-input", "r-flow");
      web.click("#create");
      for (int i = 0; i < 100 && !web.title().startsWith("r-flow"); i++) {
        Thread.sleep(100);
      }
      // From here the rollout page is never reloaded by the test: it refreshes itself.
      URI page = base.resolve("/ui/rollouts/r-flow");
      waitUntil(web, "#rollout-waiting", "approval of wave 2 of 2"::equals);
      assertThat(web.text("#waves")).contains("2 nodes").contains("100.0%, approval");
      assertThat(web.count("#targets tr")).isEqualTo(1 + 2);
      assertThat(web.text("#targets")).contains("installed");
      web.screenshot(FLOW_SHOTS.resolve("04-wave-2-waits-for-approval.png"));

      // An operator may pause and resume but not plan: the planning page is refused with the
      // reason, and the rollout page offers no approve button.
      signIn(web, base, "fct_test-flow-operator-0123456789");
      web.open(base.resolve("/ui/rollouts/new"));
      assertThat(web.text("#problem"))
          .isEqualTo(
              "Token 'oscar' has role 'operator'; this page needs 'release-manager' or higher."
                  + " Use a token with that role.");
      // In the UI's layout, with its navigation, and the problem's type.
      assertThat(web.title()).isEqualTo("Refused · EdgeSLM fleet");
      assertThat(web.count("header nav a")).isEqualTo(4);
      assertThat(web.text("#problem-type"))
          .isEqualTo("HTTP 403, problem https://edgeslm.io/problems/forbidden.");
      web.screenshot(FLOW_SHOTS.resolve("05-operator-refused-planning.png"));
      web.open(page);
      assertThat(web.count("#approve")).isZero();
      command(web, "#pause", "shift change on line flow", "PAUSED");
      web.screenshot(FLOW_SHOTS.resolve("06-paused-by-operator.png"));
      command(web, "#resume", "shift over", "RUNNING");

      // Wave 2's nodes fetch one request's worth of chunks and then hold, so the page shows their
      // download part-way, live; released, they finish and the rollout completes on its own page.
      for (VirtualNode n : fleet) {
        n.reportProgress(true).holdDownloads(true);
      }
      java.util.Set<String> wave1 = c.runner().get("r-flow").targets().keySet();
      VirtualNode watched =
          fleet.stream().filter(n -> !wave1.contains(n.nodeId())).findFirst().orElseThrow();
      signIn(web, base, "fct_test-flow-release-0123456789");
      web.open(page);
      // The release manager pauses and resumes too, with reasons, before approving wave 2.
      command(web, "#pause", "hold wave 2 for the line check", "PAUSED");
      web.screenshot(FLOW_SHOTS.resolve("06b-paused-by-release-manager.png"));
      command(web, "#resume", "line check passed", "RUNNING");
      waitUntil(web, "#rollout-waiting", "approval of wave 2 of 2"::equals);
      assertAuditRow(web, "rose", "paused", "hold wave 2 for the line check");
      assertAuditRow(web, "rose", "resumed", "line check passed");
      command(web, "#approve", "canaries healthy");
      String downloading = waitUntil(web, "#targets", t -> t.split("downloading ", -1).length == 3);
      assertThat(downloading)
          .containsPattern("downloading [0-9.]+ [KMG]?i?B of 4[0-9.]+ KiB \\([0-9]{1,2}%\\)");
      web.scrollTo("#targets");
      web.screenshot(FLOW_SHOTS.resolve("07-wave-2-downloading.png"));

      // The node page shows the same download with its rollout, and follows it without a reload:
      // one more request's worth of chunks changes the figures, the finished install clears them
      // and shows the new model.
      URI watchedPage = base.resolve("/ui/nodes/" + watched.nodeId());
      web.open(watchedPage);
      String before = web.text("#update-progress");
      assertThat(before)
          .matches("downloading [0-9.]+ [KMG]?i?B of 4[0-9.]+ KiB \\([0-9]{1,2}%\\) at .+ UTC");
      assertThat(web.text("#update"))
          .contains("(assignment r-flow." + watched.nodeId() + " of rollout r-flow)");
      assertThat(web.text("#facts")).contains("phi-mini v3");
      web.screenshot(FLOW_SHOTS.resolve("07a-node-downloading.png"));
      watched.releaseOneRequest();
      String after = waitUntil(web, "#update-progress", t -> !t.equals(before));
      assertThat(after)
          .matches("downloading [0-9.]+ [KMG]?i?B of 4[0-9.]+ KiB \\([0-9]{1,3}%\\) at .+ UTC");
      for (VirtualNode n : fleet) {
        n.releaseDownloads();
      }
      waitUntil(web, "#update-progress", "none in progress"::equals);
      waitUntil(web, "#facts", f -> f.contains("phi-mini v7"));
      web.screenshot(FLOW_SHOTS.resolve("07b-node-updated-live.png"));

      web.open(page);
      waitUntil(web, "#rollout-status", "COMPLETED"::equals);
      // A completed rollout still assigns nodes that join later, so the page keeps refreshing.
      waitUntil(web, "#targets", t -> !t.contains("downloading"));
      assertThat(web.text("#live-note"))
          .isEqualTo(
              "This page refreshes itself every 2 s until the rollout is aborted or rolled back.");
      assertThat(web.text("#audit"))
          .contains("rose")
          .contains("oscar")
          .contains("shift change on line flow")
          .contains("wave 2: canaries healthy")
          .contains("completed");
      assertAuditRow(web, "oscar", "paused", "shift change on line flow");
      assertAuditRow(web, "oscar", "resumed", "shift over");
      assertAuditRow(web, "rose", "paused", "hold wave 2 for the line check");
      assertAuditRow(web, "rose", "resumed", "line check passed");
      web.screenshot(FLOW_SHOTS.resolve("08-completed.png"));
      ModelRef target = c.runner().get("r-flow").plan().model();
      assertThat(fleet).allMatch(n -> target.equals(n.active()));

      URI node = base.resolve("/ui/nodes/flow-0");
      reloadUntil(web, node, "#facts", f -> f.contains("phi-mini v7"));
      web.type("#rollback-reason", "answers drift on press 7");
      web.click("#rollback");
      for (int i = 0; i < 600 && web.text("#rollback-status").isEmpty(); i++) {
        Thread.sleep(100);
      }
      assertThat(web.text("#rollback-status")).startsWith("Rollback command rb.flow-0.");
      assertThat(web.text("#rollback-error")).isEmpty();
      reloadUntil(web, node, "#facts", f -> f.contains("phi-mini v3"));
      web.screenshot(FLOW_SHOTS.resolve("09-node-rolled-back.png"));
      assertThat(fleet.get(0).active()).isEqualTo(old);

      String planned = plansWithGateAndWindow_thenAborts(web, c);

      signIn(web, base, "fct_test-flow-viewer-0123456789");
      web.open(base.resolve("/ui/bundles"));
      assertThat(web.count("#upload-form")).isZero();
      web.open(node);
      assertThat(web.count("#rollback")).isZero();
      web.open(base.resolve("/ui/rollouts"));
      assertThat(web.count("#new-rollout")).isZero();
      web.open(page);
      assertThat(web.text("#rollout-status")).isEqualTo("COMPLETED");
      assertThat(web.count("button")).isZero();
      web.open(base.resolve("/ui/rollouts/" + planned));
      assertThat(web.text("#rollout-status")).isEqualTo("ABORTED");
      assertThat(web.count("button")).isZero();
    } finally {
      fleet.forEach(VirtualNode::close);
    }
    try (var shots = Files.list(FLOW_SHOTS)) {
      assertThat(shots.filter(p -> p.toString().endsWith(".png")).count()).isEqualTo(15);
    }
  }

  /**
   * The release manager plans a second rollout of the flow's nodes through every part of the form
   * (sites and labels, an approval before wave 1, thresholds, the health gate, a maintenance
   * window), previews and creates it; the plan the API stores carries each of them. The rollout
   * waits for the approval of wave 1, so nothing reaches a node; the release manager aborts it from
   * its page, and the audit trail says who and why. Returns the rollout's id.
   */
  String plansWithGateAndWindow_thenAborts(WebDriver web, FleetController c) throws Exception {
    String rose = "fct_test-flow-release-0123456789";
    // v7 again, which the three nodes still on it already serve; flow-0 is back on v3.
    String v7 = c.runner().get("r-flow").plan().bundleId();
    signIn(web, base, rose);
    web.open(base.resolve("/ui/rollouts"));
    web.click("#new-rollout");
    for (int i = 0; i < 100 && !web.title().startsWith("New rollout"); i++) {
      Thread.sleep(100);
    }
    web.click("#bundle option[value='" + v7 + "']");
    web.type("#name", "phi-mini v7 back to flow-0, gated, weekend nights");
    web.type("#rollout-id-input", "r-form");
    web.type("#sites", "plant-flow");
    web.type("#labels", "line=flow");
    web.click("#wave-1-approval");
    web.clear("#success");
    web.type("#success", "90");
    web.clear("#errors");
    web.type("#errors", "10");
    web.click("#on-errors option:nth-child(2)"); // ABORT
    web.clear("#result-timeout");
    web.type("#result-timeout", "20");
    web.click("#gate-on");
    web.clear("#soak");
    web.type("#soak", "5");
    web.clear("#min-tps");
    web.type("#min-tps", "0.8");
    web.clear("#max-p95");
    web.type("#max-p95", "1.5");
    web.clear("#min-measured");
    web.type("#min-measured", "75");
    web.click("#window-on");
    web.click("#window-days input[value='SATURDAY']");
    web.click("#window-days input[value='SUNDAY']");
    web.clear("#window-zone");
    web.type("#window-zone", "Europe/Berlin");
    web.click("#preview");
    waitForText(
        web,
        "#preview-summary",
        "4 nodes match: 1 to update (wave 1: 1, wave 2: 0 now), 3 already serve this model, 0"
            + " offline.");
    assertThat(web.text("#preview-nodes"))
        .containsPattern("flow-0\\s.*updated by a wave")
        .containsPattern("flow-1\\s.*already serves this model: left alone");
    web.scrollTo("#gate-on");
    web.screenshot(FLOW_SHOTS.resolve("10-second-plan-gate-and-window.png"));
    web.click("#create");
    for (int i = 0; i < 100 && !web.title().startsWith("r-form"); i++) {
      Thread.sleep(100);
    }
    waitUntil(web, "#rollout-waiting", "approval of wave 1 of 2"::equals);
    assertThat(web.text("#rollout-status")).isEqualTo("RUNNING");
    web.screenshot(FLOW_SHOTS.resolve("11-second-rollout-waits.png"));

    JsonNode plan = new Http(base).get("/api/v1/rollouts/r-form", rose).json().get("plan");
    assertThat(plan.get("name").asText())
        .isEqualTo("phi-mini v7 back to flow-0, gated, weekend nights");
    assertThat(plan.get("bundleId").asText()).isEqualTo(v7);
    assertThat(plan.at("/selector/sites").toString()).isEqualTo("[\"plant-flow\"]");
    assertThat(plan.at("/selector/labels").toString()).isEqualTo("{\"line\":\"flow\"}");
    JsonNode waves = plan.get("waves");
    assertThat(waves).hasSize(2);
    assertThat(waves.get(0).get("count").asInt()).isEqualTo(1);
    assertThat(waves.get(0).path("percent").isNumber()).isFalse();
    assertThat(waves.get(0).get("approval").asBoolean()).isTrue();
    assertThat(waves.get(1).get("percent").asDouble()).isEqualTo(100.0);
    assertThat(waves.get(1).path("count").isNumber()).isFalse();
    assertThat(waves.get(1).get("approval").asBoolean()).isFalse();
    JsonNode t = plan.get("thresholds");
    assertThat(t.get("successPercent").asDouble()).isEqualTo(90.0);
    assertThat(t.get("errorPercent").asDouble()).isEqualTo(10.0);
    assertThat(t.get("onErrors").asText()).isEqualTo("ABORT");
    assertThat(duration(t.get("resultTimeout"))).isEqualTo(Duration.ofMinutes(20));
    JsonNode g = plan.get("gate");
    assertThat(duration(g.get("soak"))).isEqualTo(Duration.ofMinutes(5));
    assertThat(duration(g.get("baseline"))).isEqualTo(Duration.ofMinutes(60));
    assertThat(duration(g.get("dataTimeout"))).isEqualTo(Duration.ofMinutes(60));
    assertThat(g.get("minTokensPerSecondRatio").asDouble()).isEqualTo(0.8);
    assertThat(g.get("maxP95LatencyRatio").asDouble()).isEqualTo(1.5);
    assertThat(g.get("maxErrorRateIncrease").asDouble()).isEqualTo(0.01);
    assertThat(g.get("minActivationScore").asDouble()).isEqualTo(0.0);
    assertThat(g.get("minMeasuredPercent").asDouble()).isEqualTo(75.0);
    JsonNode windows = plan.get("windows");
    assertThat(windows).hasSize(1);
    JsonNode w = windows.get(0);
    List<String> days = new ArrayList<>();
    w.get("days").forEach(d -> days.add(d.asText()));
    assertThat(days).containsExactlyInAnyOrder("SATURDAY", "SUNDAY");
    assertThat(w.get("start").asText()).startsWith("22:00");
    assertThat(w.get("end").asText()).startsWith("04:00");
    assertThat(w.get("zone").asText()).isEqualTo("Europe/Berlin");
    assertThat(c.runner().get("r-form").targets()).isEmpty();
    // The page states the same plan in words, next to the progress it governs.
    assertThat(web.text("#plan"))
        .contains("sites plant-flow; labels line=flow")
        .contains("1 node, approval · 100.0%")
        .contains("advances at 90% installed; above 10% failed: abort;")
        .contains("without a result after 20 min counts as failed")
        .contains("after 5 min of soak")
        .contains("tokens/s at least 0.8×, p95 latency at most 1.5×")
        .contains("unless 75% of the installed nodes report within 1 h after the soak")
        .contains("Saturday, Sunday 22:00–04:00 Europe/Berlin");

    command(web, "#abort", "replaced by a weekday plan", "ABORTED");
    assertAuditRow(web, "rose", "created", "");
    assertAuditRow(
        web, "rose", "aborted", "replaced by a weekday plan (0 pending assignments withdrawn)");
    web.scrollTo("#audit");
    web.screenshot(FLOW_SHOTS.resolve("12-second-rollout-aborted.png"));
    assertThat(c.runner().get("r-form").status()).isEqualTo(io.edgeslm.fleet.RolloutStatus.ABORTED);
    return "r-form";
  }

  /** A duration of the API's JSON: ISO-8601 text. */
  static Duration duration(JsonNode d) {
    return Duration.parse(d.asText());
  }

  /** Asserts that one row of the audit trail names the actor, the action and the reason. */
  static void assertAuditRow(WebDriver web, String actor, String action, String reason)
      throws Exception {
    List<String> rows = web.text("#audit").lines().toList();
    assertThat(rows)
        .as("audit trail")
        .anyMatch(
            r ->
                r.matches(
                        ".*\\s"
                            + java.util.regex.Pattern.quote(actor)
                            + "\\s+"
                            + java.util.regex.Pattern.quote(action)
                            + "(\\s.*)?")
                    && r.contains(reason));
  }

  /**
   * Waits, without reloading, until the element's text satisfies {@code condition} (up to 120 s,
   * for a loaded machine): the rollout page refreshes its live parts itself.
   */
  static String waitUntil(WebDriver web, String css, java.util.function.Predicate<String> condition)
      throws Exception {
    String seen = null;
    for (int i = 0; i < 1200; i++) {
      try {
        seen = textNow(web, css);
      } catch (IllegalStateException replaced) {
        seen = null; // the live refresh swapped the element out between finding and reading it
      }
      if (seen != null && condition.test(seen)) {
        return seen;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("text of " + css + " stayed '" + seen + "'");
  }

  /** The bundle's files as a file input takes several: absolute paths, one a line. */
  static String bundleFiles(Path bundle) throws Exception {
    try (var files = Files.list(bundle)) {
      return String.join("\n", files.sorted().map(f -> f.toAbsolutePath().toString()).toList());
    }
  }

  static final String RELEASE_TOKEN = "fct_test-release-manager-0123456789";
  static final String OPERATOR_TOKEN = "fct_test-operator-0123456789";
  static final String VIEWER_TOKEN = "fct_test-viewer-0123456789";
}
