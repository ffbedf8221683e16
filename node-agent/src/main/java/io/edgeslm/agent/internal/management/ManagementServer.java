package io.edgeslm.agent.internal.management;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.health.SmallRyeHealth;
import io.smallrye.health.SmallRyeHealthReporter;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The management interface: {@code /q/health} and its {@code /live}, {@code /ready}, {@code
 * /started} and {@code /well} from SmallRye Health's reporter, answered as the Quarkus extension
 * answered them (200 when up, 503 with the same JSON when down), and {@code /q/metrics} from the
 * Prometheus registry (made at the first scrape, {@link AgentMetrics}), on the JDK's HTTP server at
 * {@code edgeslm.management.host}:{@code edgeslm.management.port} ({@code EDGESLM_MANAGEMENT_HOST},
 * {@code EDGESLM_MANAGEMENT_PORT}), a virtual thread per exchange within the server's connection
 * and time limits ({@link #LIMITS}). Without Vert.x for these two endpoints the agent loads about
 * 1,100 classes fewer (docs/adr/0024).
 */
@ApplicationScoped
public class ManagementServer {
  private static final Logger LOG = Logger.getLogger(ManagementServer.class);

  @Inject SmallRyeHealthReporter health;
  @Inject AgentMetrics metrics;

  @ConfigProperty(name = "edgeslm.management.host", defaultValue = "127.0.0.1")
  String host;

  @ConfigProperty(name = "edgeslm.management.port", defaultValue = "9000")
  int port;

  private volatile HttpServer server;
  private volatile ExecutorService executor;

  /** Opens the port before the agent's own start-up: readiness says 503 until it is ready. */
  void onStart(@Observes @Priority(1) StartupEvent event) {
    Map<String, HttpHandler> routes = new LinkedHashMap<>();
    healthRoute(routes, "/q/health", SmallRyeHealthReporter::getHealth);
    healthRoute(routes, "/q/health/live", SmallRyeHealthReporter::getLiveness);
    healthRoute(routes, "/q/health/ready", SmallRyeHealthReporter::getReadiness);
    healthRoute(routes, "/q/health/started", SmallRyeHealthReporter::getStartup);
    healthRoute(routes, "/q/health/well", SmallRyeHealthReporter::getWellness);
    routes.put("/q/metrics", this::metrics);
    // SLF4J is set up here, before the port opens: a scrape during the agent's start makes the
    // meter registry (AgentMetrics), whose Micrometer logs through SLF4J, and two threads
    // initialising SLF4J at once lose log calls (AgentRuntime.warmUpMqttClient).
    org.slf4j.LoggerFactory.getILoggerFactory();
    try {
      executor = Executors.newVirtualThreadPerTaskExecutor();
      server = open(host, port, routes, executor);
      LOG.infof("Management interface listening on http://%s:%d", host, port());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot open the management interface on "
              + host
              + ":"
              + port
              + " ("
              + e.getMessage()
              + "): set edgeslm.management.port (EDGESLM_MANAGEMENT_PORT) to a free port",
          e);
    }
  }

  /**
   * The limits of the JDK's HTTP server, set unless the operator set them as system properties
   * (read once, when its first server is created; the {@code jdk.httpserver} module's documentation
   * names them and their defaults: no limit on connections or time). Without them one local process
   * that opens a connection and sends nothing holds a serving thread for ever, and the health
   * probes behind it fail.
   */
  static final Map<String, String> LIMITS =
      Map.of(
          "jdk.httpserver.maxConnections", "16",
          "sun.net.httpserver.maxIdleConnections", "4",
          "sun.net.httpserver.maxReqHeaders", "64",
          "sun.net.httpserver.maxReqHeaderSize", "16384",
          "sun.net.httpserver.maxReqTime", "10",
          "sun.net.httpserver.maxRspTime", "30",
          "sun.net.httpserver.idleInterval", "30");

  /**
   * Opens the JDK's HTTP server on {@code host}:{@code port} with {@code routes} (exact paths,
   * {@code GET} and {@code HEAD}), each exchange on a thread of {@code executor}: with a thread per
   * connection, up to {@code maxConnections}, a stalled client cannot hold up a probe.
   */
  static HttpServer open(
      String host, int port, Map<String, HttpHandler> routes, ExecutorService executor)
      throws IOException {
    LIMITS.forEach(
        (name, value) -> {
          if (System.getProperty(name) == null) {
            System.setProperty(name, value);
          }
        });
    HttpServer s = HttpServer.create(new InetSocketAddress(host, port), 16);
    routes.forEach(
        (path, handler) ->
            s.createContext(
                path,
                exchange -> {
                  try (exchange) {
                    if (exact(exchange, path)) {
                      handler.handle(exchange);
                    }
                  }
                }));
    s.setExecutor(executor);
    s.start();
    return s;
  }

  void onStop(@Observes ShutdownEvent event) {
    HttpServer s = server;
    if (s != null) {
      s.stop(0);
      server = null;
    }
    ExecutorService e = executor;
    if (e != null) {
      e.shutdownNow();
    }
  }

  /** The port the interface listens on (the kernel's choice when configured as 0). */
  public int port() {
    HttpServer s = server;
    return s == null ? -1 : s.getAddress().getPort();
  }

  private void healthRoute(
      Map<String, HttpHandler> routes,
      String path,
      Function<SmallRyeHealthReporter, SmallRyeHealth> check) {
    routes.put(
        path,
        exchange -> {
          SmallRyeHealth result = check.apply(health);
          ByteArrayOutputStream body = new ByteArrayOutputStream(256);
          health.reportHealth(body, result);
          send(
              exchange,
              result.isDown() ? 503 : 200,
              "application/json; charset=UTF-8",
              body.toByteArray());
        });
  }

  private void metrics(HttpExchange exchange) throws IOException {
    String type = metricsType(exchange.getRequestHeaders().getFirst("Accept"));
    send(exchange, 200, type, metrics.registry().scrape(type).getBytes(StandardCharsets.UTF_8));
  }

  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  /**
   * The format the Quarkus extension chose: Prometheus text for a client that accepts {@code
   * text/plain} (Prometheus itself, a browser), OpenMetrics otherwise.
   */
  static String metricsType(String accept) {
    return accept != null && (accept.contains("text/plain") || accept.contains("text/html"))
        ? PROMETHEUS_TEXT
        : OPEN_METRICS;
  }

  /** Only {@code GET} (and {@code HEAD}) of the path itself: a context also matches sub-paths. */
  private static boolean exact(HttpExchange exchange, String path) throws IOException {
    String method = exchange.getRequestMethod();
    if (!exchange.getRequestURI().getPath().equals(path)) {
      send(
          exchange, 404, "text/plain; charset=utf-8", "Not Found".getBytes(StandardCharsets.UTF_8));
      return false;
    }
    if (!method.equals("GET") && !method.equals("HEAD")) {
      exchange.getResponseHeaders().set("Allow", "GET, HEAD");
      send(exchange, 405, "text/plain; charset=utf-8", new byte[0]);
      return false;
    }
    return true;
  }

  private static void send(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
    if (!head && body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
