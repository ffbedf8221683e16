package io.edgeslm.agent.internal.management;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ManagementServerTest {

  private ExecutorService executor;
  private HttpServer server;

  @BeforeEach
  void open() throws IOException {
    HttpHandler live =
        exchange -> {
          byte[] body = "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        };
    executor = Executors.newVirtualThreadPerTaskExecutor();
    server = ManagementServer.open("127.0.0.1", 0, Map.of("/q/health/live", live), executor);
  }

  @AfterEach
  void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** A local process that starts a request and stops sending (a slow-loris client). */
  private Socket stalledClient() throws IOException {
    Socket s = new Socket("127.0.0.1", server.getAddress().getPort());
    s.getOutputStream()
        .write("GET /q/health/live HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  private int probe() throws IOException, InterruptedException {
    try (HttpClient client = HttpClient.newHttpClient()) {
      return client
          .send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:" + server.getAddress().getPort() + "/q/health/live"))
                  .timeout(Duration.ofSeconds(60))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    }
  }

  @Test
  void stalledClients_doNotHoldUpTheHealthProbe() throws Exception {
    // With one serving thread (the first version) the probe waited behind the stalled request
    // for ever; each exchange now has its own thread.
    try (Socket a = stalledClient();
        Socket b = stalledClient()) {
      assertThat(probe()).isEqualTo(200);
      // Answered while the stalled requests are still open, not after the server gave up on them.
      a.setSoTimeout(200);
      assertThatThrownBy(() -> a.getInputStream().read())
          .isInstanceOf(SocketTimeoutException.class);
    }
  }

  @Test
  void aStalledRequest_isCutOffByTheRequestTimeLimit() throws Exception {
    try (Socket s = stalledClient()) {
      s.setSoTimeout(120_000);
      InputStream in = s.getInputStream();
      // The server closes the connection after maxReqTime (10 s) instead of keeping it for ever;
      // without the limit this read ends in a SocketTimeoutException.
      while (in.read() >= 0) {
        // whatever it sends before closing
      }
    }
    assertThat(probe()).isEqualTo(200);
  }

  @Test
  void aRequestWithTooManyHeaders_isRefused() throws Exception {
    StringBuilder request = new StringBuilder("GET /q/health/live HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 100; i++) {
      request.append("X-Filler-").append(i).append(": y\r\n");
    }
    request.append("\r\n");
    try (Socket s = new Socket("127.0.0.1", server.getAddress().getPort())) {
      s.setSoTimeout(60_000);
      s.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
      String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(reply).doesNotStartWith("HTTP/1.1 200");
    }
  }

  @Test
  void prometheusAskingForTextGetsTheTextFormat() {
    // The Accept header Prometheus 2.x sends.
    assertThat(
            ManagementServer.metricsType(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                    + "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"))
        .isEqualTo(ManagementServer.PROMETHEUS_TEXT);
    assertThat(ManagementServer.metricsType("text/html,application/xhtml+xml"))
        .isEqualTo(ManagementServer.PROMETHEUS_TEXT);
  }

  @Test
  void aClientWithoutTextPlainGetsOpenMetrics() {
    assertThat(ManagementServer.metricsType(null)).isEqualTo(ManagementServer.OPEN_METRICS);
    assertThat(ManagementServer.metricsType("*/*")).isEqualTo(ManagementServer.OPEN_METRICS);
    assertThat(ManagementServer.metricsType("application/openmetrics-text"))
        .isEqualTo(ManagementServer.OPEN_METRICS);
  }
}
