package io.edgeslm.fleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * A minimal W3C WebDriver client for Debian's {@code chromedriver} and {@code chromium}: enough to
 * open pages, type, click, read text and take screenshots, without a Selenium dependency.
 */
final class WebDriver implements AutoCloseable {

  static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final Process driver;
  private final URI base;
  private final String session;

  WebDriver(Path profile) throws Exception {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      throw new IllegalStateException(
          "The UI tests need headless Chromium and its driver at "
              + CHROMIUM
              + " and "
              + CHROMEDRIVER
              + ". Install them: apt-get install -y chromium chromium-driver");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    driver =
        new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port)
            .redirectErrorStream(true)
            .redirectOutput(profile.resolveSibling("chromedriver.log").toFile())
            .start();
    base = URI.create("http://127.0.0.1:" + port);
    long end = System.currentTimeMillis() + 20_000;
    while (true) {
      try {
        if (call("GET", "/status", null).at("/value/ready").asBoolean()) {
          break;
        }
      } catch (java.io.IOException e) {
        // not listening yet
      }
      if (System.currentTimeMillis() > end) {
        throw new IllegalStateException("chromedriver did not start; see chromedriver.log");
      }
      Thread.sleep(100);
    }
    ObjectNode caps = JSON.createObjectNode();
    ObjectNode opts =
        caps.putObject("capabilities")
            .putObject("alwaysMatch")
            .put("browserName", "chrome")
            .putObject("goog:chromeOptions");
    opts.put("binary", CHROMIUM.toString());
    var args = opts.putArray("args");
    for (String a :
        List.of(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--user-data-dir=" + profile)) {
      args.add(a);
    }
    JsonNode created = call("POST", "/session", caps);
    session = created.at("/value/sessionId").asText();
    if (session.isEmpty()) {
      throw new IllegalStateException("chromedriver refused the session: " + created);
    }
  }

  JsonNode call(String method, String path, JsonNode body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
    b.header("Content-Type", "application/json");
    b.method(
        method,
        body == null
            ? (method.equals("POST")
                ? HttpRequest.BodyPublishers.ofString("{}")
                : HttpRequest.BodyPublishers.noBody())
            : HttpRequest.BodyPublishers.ofString(body.toString()));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json = JSON.readTree(r.body());
    if (r.statusCode() >= 400) {
      throw new IllegalStateException("WebDriver " + method + " " + path + ": " + r.body());
    }
    return json;
  }

  String s(String rest) {
    return "/session/" + session + rest;
  }

  void open(URI url) throws Exception {
    call("POST", s("/url"), JSON.createObjectNode().put("url", url.toString()));
  }

  String title() throws Exception {
    return call("GET", s("/title"), null).get("value").asText();
  }

  String currentUrl() throws Exception {
    return call("GET", s("/url"), null).get("value").asText();
  }

  /** Finds an element, waiting up to 10 s for it (a click returns before the next page loads). */
  String find(String css) throws Exception {
    long end = System.currentTimeMillis() + 10_000;
    while (true) {
      try {
        return findNow(css);
      } catch (IllegalStateException e) {
        if (!e.getMessage().contains("no such element") || System.currentTimeMillis() > end) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  private String findNow(String css) throws Exception {
    JsonNode r =
        call(
            "POST",
            s("/element"),
            JSON.createObjectNode().put("using", "css selector").put("value", css));
    return r.get("value").get(ELEMENT).asText();
  }

  int count(String css) throws Exception {
    return call(
            "POST",
            s("/elements"),
            JSON.createObjectNode().put("using", "css selector").put("value", css))
        .get("value")
        .size();
  }

  /**
   * The element's visible text. A live page may replace the element between finding and reading it;
   * then it is found again (up to ten times).
   */
  String text(String css) throws Exception {
    for (int i = 0; ; i++) {
      try {
        return call("GET", s("/element/" + find(css) + "/text"), null).get("value").asText();
      } catch (IllegalStateException e) {
        if (i >= 10 || !e.getMessage().contains("stale element")) {
          throw e;
        }
      }
    }
  }

  /** Scrolls the page so that the element is in view, for a screenshot that shows it. */
  void scrollTo(String css) throws Exception {
    var body = JSON.createObjectNode();
    body.put("script", "arguments[0].scrollIntoView({block: 'center'});");
    body.putArray("args").addObject().put(ELEMENT, find(css));
    call("POST", s("/execute/sync"), body);
  }

  /**
   * The text content of every element matching {@code css}, in document order; unlike {@link #text}
   * it reads SVG text as it is, whatever the layout.
   */
  List<String> texts(String css) throws Exception {
    var body = JSON.createObjectNode();
    body.put(
        "script",
        "return Array.from(document.querySelectorAll(arguments[0]))"
            + ".map(function (e) { return e.textContent; });");
    body.putArray("args").add(css);
    List<String> out = new java.util.ArrayList<>();
    call("POST", s("/execute/sync"), body).get("value").forEach(v -> out.add(v.asText()));
    return out;
  }

  void type(String css, String text) throws Exception {
    call("POST", s("/element/" + find(css) + "/value"), JSON.createObjectNode().put("text", text));
  }

  void clear(String css) throws Exception {
    call("POST", s("/element/" + find(css) + "/clear"), null);
  }

  void click(String css) throws Exception {
    call("POST", s("/element/" + find(css) + "/click"), null);
  }

  void screenshot(Path file) throws Exception {
    String png = call("GET", s("/screenshot"), null).get("value").asText();
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(png));
  }

  @Override
  public void close() {
    try {
      call("DELETE", s(""), null);
    } catch (Exception e) {
      // the driver goes anyway
    }
    driver.destroy();
    try {
      driver.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
