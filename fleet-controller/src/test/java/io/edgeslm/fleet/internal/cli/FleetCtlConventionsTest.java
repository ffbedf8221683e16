package io.edgeslm.fleet.internal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * fleetctl's command-line conventions: help everywhere without side effects, usage errors in one
 * sentence with exit code 2, and one clear sentence (no stack trace) when the controller cannot be
 * reached or refuses the token. Messages asserted word for word.
 */
class FleetCtlConventionsTest {

  record Run(int code, String out, String err) {}

  static Run fleetctl(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = FleetCtl.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void help_onEveryCommandAndSubcommand_printsUsageAndSendsNothing() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        x -> {
          requests.incrementAndGet();
          x.sendResponseHeaders(500, -1);
        });
    server.start();
    try {
      List<List<String>> paths = new ArrayList<>();
      collect(new CommandLine(new FleetCtl()), new ArrayList<>(), paths);
      assertThat(paths).hasSizeGreaterThanOrEqualTo(19);
      for (List<String> path : paths) {
        for (String flag : List.of("--help", "-h")) {
          List<String> args =
              new ArrayList<>(
                  List.of(
                      "--url",
                      "http://127.0.0.1:" + server.getAddress().getPort(),
                      "--token",
                      "t"));
          args.addAll(path);
          args.add(flag);
          Run r = fleetctl(args.toArray(String[]::new));
          assertThat(r.code()).as("%s %s: %s", path, flag, r.err()).isZero();
          assertThat(r.out())
              .as("%s %s", path, flag)
              .startsWith("Usage: " + String.join(" ", prefixed(path)));
          assertThat(r.err()).isEmpty();
        }
      }
      assertThat(requests).hasValue(0);
    } finally {
      server.stop(0);
    }
  }

  private static List<String> prefixed(List<String> path) {
    List<String> all = new ArrayList<>(List.of("fleetctl"));
    all.addAll(path);
    return all;
  }

  private static void collect(CommandLine cl, List<String> path, List<List<String>> into) {
    into.add(List.copyOf(path));
    for (var e : cl.getSubcommands().entrySet()) {
      if (!e.getKey().equals(e.getValue().getCommandName())) {
        continue; // an alias: its help is the command's own
      }
      List<String> sub = new ArrayList<>(path);
      sub.add(e.getKey());
      collect(e.getValue(), sub, into);
    }
  }

  @Test
  void usageErrors_oneSentenceExitTwo() {
    Run missing = fleetctl("--token", "t", "rollout", "create", "--bundle", "b");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err())
        .isEqualTo(
            "fleetctl: A rollout needs waves: give --plan FILE or one --wave per wave. See"
                + " 'fleetctl rollout create --help'.\n");

    Run unknown = fleetctl("rollout", "frobnicate");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err())
        .isEqualTo(
            "fleetctl: Unmatched argument at index 1: 'frobnicate'. See 'fleetctl rollout --help'.\n");

    Run noSub = fleetctl("token");
    assertThat(noSub.code()).isEqualTo(2);
    assertThat(noSub.err())
        .isEqualTo("fleetctl: Missing required subcommand. See 'fleetctl token --help'.\n");

    Run wave =
        fleetctl(
            "--token", "t", "rollout", "create", "--bundle", "b", "--name", "n", "--wave", "three");
    assertThat(wave.code()).isEqualTo(2);
    assertThat(wave.err())
        .isEqualTo(
            "fleetctl: --wave must be a node count (3) or a cumulative share (25%), with a"
                + " trailing '!' for an approval, got 'three'. See 'fleetctl rollout create"
                + " --help'.\n");

    // A bad number names the option and the value, not a Java type or exception.
    Run limit = fleetctl("--token", "t", "node", "list", "--limit", "abc");
    assertThat(limit.code()).isEqualTo(2);
    assertThat(limit.err())
        .isEqualTo(
            "fleetctl: --limit must be a whole number, got 'abc'. See 'fleetctl node list"
                + " --help'.\n");
    Run success =
        fleetctl(
            "--token",
            "t",
            "rollout",
            "create",
            "--bundle",
            "b",
            "--name",
            "n",
            "--wave",
            "1",
            "--success",
            "lots");
    assertThat(success.code()).isEqualTo(2);
    assertThat(success.err())
        .isEqualTo(
            "fleetctl: --success must be a number, got 'lots'. See 'fleetctl rollout create"
                + " --help'.\n");

    Run noToken = fleetctl("--url", "http://127.0.0.1:1", "rollout", "status", "r-1");
    assertThat(noToken.code()).isEqualTo(2);
    assertThat(noToken.err())
        .isEqualTo(
            "fleetctl: No API token: pass --token or set FLEET_TOKEN. See 'fleetctl rollout status"
                + " --help'.\n");

    Run badUrl = fleetctl("--url", "localhost:8080", "--token", "t", "rollout", "status", "r-1");
    assertThat(badUrl.code()).isEqualTo(2);
    assertThat(badUrl.err())
        .isEqualTo(
            "fleetctl: --url 'localhost:8080' is not an http(s) URL like http://localhost:8080 (or"
                + " FLEET_URL). See 'fleetctl rollout status --help'.\n");
  }

  @Test
  void refusedConnection_oneSentenceNamingTheUrlExitThree() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port;
    Run r = fleetctl("--url", url, "--token", "t", "rollout", "status", "r-1");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err())
        .isEqualTo(
            "fleetctl: cannot reach the fleet controller at "
                + url
                + " (connection refused); check --url or FLEET_URL.\n");
  }

  @Test
  void unknownHost_isSaidSo_notReportedAsARefusedConnection() {
    // .invalid never resolves (RFC 6761); the JDK's client reports it as a ConnectException.
    String url = "http://no-such-host.invalid:8080";
    Run r = fleetctl("--url", url, "--token", "t", "rollout", "status", "r-1");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err())
        .isEqualTo(
            "fleetctl: cannot reach the fleet controller at "
                + url
                + " (unknown host 'no-such-host.invalid'); check --url or FLEET_URL.\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void fileErrors_nameTheFileAndWhatIsWrong_notJustAPath() {
    // A bundle file that vanished or cannot be read: the exception's message is the bare path.
    assertThat(FleetCtl.describe(new java.nio.file.NoSuchFileException("/b/model.gguf")))
        .isEqualTo("file '/b/model.gguf': no such file");
    assertThat(FleetCtl.describe(new java.nio.file.AccessDeniedException("/b/model.sig")))
        .isEqualTo("file '/b/model.sig': permission denied");
    assertThat(
            FleetCtl.describe(
                new java.io.UncheckedIOException(
                    new java.nio.file.NoSuchFileException("/b/evals"))))
        .isEqualTo("file '/b/evals': no such file");
  }

  @Test
  void rejectedToken_oneSentenceExitFour_otherRefusalsExitOne() throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/api/v1/rollouts/",
        x -> {
          boolean good = "Bearer good".equals(x.getRequestHeaders().getFirst("Authorization"));
          byte[] body =
              (good
                      ? "{\"status\":404,\"detail\":\"No rollout 'r-1'.\"}"
                      : "{\"status\":401,\"detail\":\"Unknown or revoked token.\"}")
                  .getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().add("Content-Type", "application/problem+json");
          x.sendResponseHeaders(good ? 404 : 401, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      Run bad = fleetctl("--url", url, "--token", "bad", "rollout", "status", "r-1");
      assertThat(bad.code()).isEqualTo(4);
      assertThat(bad.err())
          .isEqualTo(
              "fleetctl: the controller refused the token (HTTP 401: Unknown or revoked token.);"
                  + " check --token or FLEET_TOKEN.\n");
      Run missing = fleetctl("--url", url, "--token", "good", "rollout", "status", "r-1");
      assertThat(missing.code()).isEqualTo(1);
      assertThat(missing.err())
          .isEqualTo(
              "fleetctl: the controller refused the request (HTTP 404: No rollout 'r-1'.).\n");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void api_sendsTheBodyFromAFile_printsTheAnswerOnOneLine_badMethodIsAUsageError()
      throws Exception {
    List<String> seen = new ArrayList<>();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        x -> {
          seen.add(
              x.getRequestMethod()
                  + " "
                  + x.getRequestURI()
                  + " "
                  + new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          byte[] body = "{\n  \"id\" : \"r-1\"\n}".getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().add("Content-Type", "application/json");
          x.sendResponseHeaders(201, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    server.start();
    java.nio.file.Path plan = java.nio.file.Files.createTempFile("plan", ".json");
    try {
      java.nio.file.Files.writeString(plan, "{\"name\": \"v2\"}");
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      Run r =
          fleetctl(
              "--url",
              url,
              "--token",
              "t",
              "api",
              "post",
              "/api/v1/rollouts",
              "--data",
              "@" + plan);
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.out()).isEqualTo("{\"id\":\"r-1\"}\n");
      assertThat(seen).containsExactly("POST /api/v1/rollouts {\"name\":\"v2\"}");

      Run bad = fleetctl("--url", url, "--token", "t", "api", "FETCH", "/api/v1/nodes");
      assertThat(bad.code()).isEqualTo(2);
      assertThat(bad.err())
          .isEqualTo(
              "fleetctl: METHOD must be GET, POST, PUT or DELETE, got 'FETCH'. See 'fleetctl api"
                  + " --help'.\n");
      assertThat(seen).hasSize(1);
    } finally {
      server.stop(0);
      java.nio.file.Files.deleteIfExists(plan);
    }
  }

  @Test
  void planFile_notJson_oneSentenceNamingFileAndPlaceExitTwo() throws Exception {
    java.nio.file.Path plan = java.nio.file.Files.createTempFile("plan.broken-json", ".json");
    try {
      java.nio.file.Files.writeString(plan, "{\"name\": \"x\",\n  \"waves\": [1,}\n");
      Run r = fleetctl("--token", "t", "rollout", "create", "--plan", plan.toString());
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err())
          .startsWith("fleetctl: --plan '" + plan + "' is not valid JSON at line 2, column ")
          .endsWith(" See 'fleetctl rollout create --help'.\n")
          .doesNotContain("\tat ")
          .doesNotContain("Exception");
      java.nio.file.Files.writeString(plan, "{\"waves\": [{\"count\": 1}]}");
      Run noBundle = fleetctl("--token", "t", "rollout", "create", "--plan", plan.toString());
      assertThat(noBundle.code()).isEqualTo(2);
      assertThat(noBundle.err())
          .isEqualTo(
              "fleetctl: The rollout has no name: give --name or put \"name\" in "
                  + plan
                  + ". See 'fleetctl rollout create --help'.\n");
    } finally {
      java.nio.file.Files.delete(plan);
    }
  }

  @Test
  void nodeList_tableHumanizesRam_jsonIsTheControllersPage_moreOnStderr() throws Exception {
    String page =
        "{\"items\":[{\"nodeId\":\"edge-1\",\"site\":\"plant-a\",\"arch\":\"aarch64\","
            + "\"ramBytes\":8589934592,\"status\":\"online\",\"model\":{\"name\":\"qa\","
            + "\"version\":3,\"digest\":null,\"channel\":null},\"lastSeenAt\":null}],"
            + "\"next\":\"edge-1\"}";
    List<String> queries = new ArrayList<>();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/api/v1/nodes",
        x -> {
          queries.add(x.getRequestURI().getRawQuery());
          byte[] body = page.getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().add("Content-Type", "application/json");
          x.sendResponseHeaders(200, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      Run table = fleetctl("--url", url, "--token", "t", "node", "list", "--site", "plant a");
      assertThat(table.code()).as(table.err()).isZero();
      assertThat(table.out())
          .isEqualTo(
              "NODE    STATUS  SITE     MODEL  ARCH     RAM      LAST SEEN\n"
                  + "edge-1  online  plant-a  qa v3  aarch64  8.0 GiB  -\n");
      assertThat(table.err()).isEqualTo("(more after edge-1; raise --limit or use --json)\n");
      assertThat(queries).containsExactly("site=plant+a&limit=100");

      Run json = fleetctl("--url", url, "--token", "t", "--json", "nodes", "list");
      assertThat(json.code()).isZero();
      assertThat(FleetCtl.JSON.readTree(json.out())).isEqualTo(FleetCtl.JSON.readTree(page));
    } finally {
      server.stop(0);
    }
  }

  @Test
  void humanized_sizesAndAges() {
    java.time.Instant now = java.time.Instant.parse("2026-12-02T03:00:00Z");
    assertThat(Humanized.binaryBytes(8_589_934_592L)).isEqualTo("8.0 GiB");
    assertThat(Humanized.bytes(999)).isEqualTo("999 B");
    assertThat(Humanized.bytes(1_500_000_000L)).isEqualTo("1.5 GB");
    assertThat(Humanized.ago(now, "2026-12-02T02:59:18Z")).isEqualTo("42 s ago");
    assertThat(Humanized.ago(now, "2026-12-02T02:55:00Z")).isEqualTo("5 min ago");
    assertThat(Humanized.ago(now, "2026-12-01T00:00:00Z")).isEqualTo("27 h ago");
    assertThat(Humanized.ago(now, "2026-12-02T03:00:05Z")).isEqualTo("just now");
    assertThat(Humanized.ago(now, null)).isEqualTo("-");
  }

  @Test
  void humanized_labelsAndListsAreTextNotJson() throws Exception {
    assertThat(Humanized.pairs(FleetCtl.JSON.readTree("{\"line\":\"3\",\"zone\":\"b\"}")))
        .isEqualTo("line=3, zone=b");
    assertThat(Humanized.pairs(FleetCtl.JSON.readTree("{}"))).isEqualTo("-");
    assertThat(Humanized.values(FleetCtl.JSON.readTree("[\"k1\",\"k2\"]"))).isEqualTo("k1, k2");
    assertThat(Humanized.values(FleetCtl.JSON.readTree("[]"))).isEqualTo("-");
  }
}
