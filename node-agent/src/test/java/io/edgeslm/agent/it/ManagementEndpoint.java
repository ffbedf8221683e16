package io.edgeslm.agent.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** The packaged agent's management interface on 127.0.0.1: health checks and Prometheus text. */
final class ManagementEndpoint {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final int port;

  ManagementEndpoint(int port) {
    this.port = port;
  }

  /** {@code GET path}; an {@link IOException} while nothing listens yet. */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * {@code /q/metrics} as sample name to value; the samples of one name (its labels) are summed.
   */
  Map<String, Double> metrics() throws IOException, InterruptedException {
    HttpResponse<String> r = get("/q/metrics");
    if (r.statusCode() != 200) {
      throw new AssertionError("/q/metrics answered " + r.statusCode() + ": " + r.body());
    }
    Map<String, Double> out = new HashMap<>();
    r.body()
        .lines()
        .filter(l -> !l.isBlank() && !l.startsWith("#"))
        .forEach(
            l -> {
              int brace = l.indexOf('{');
              int space = l.indexOf(' ');
              String name = l.substring(0, brace >= 0 && brace < space ? brace : space);
              String value = l.substring(l.lastIndexOf(' ') + 1);
              double v =
                  switch (value) {
                    case "+Inf" -> Double.POSITIVE_INFINITY;
                    case "-Inf" -> Double.NEGATIVE_INFINITY;
                    default -> Double.parseDouble(value);
                  };
              out.merge(name, v, Double::sum);
            });
    return out;
  }
}
