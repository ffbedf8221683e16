package io.edgeslm.inference.internal.http;

import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.SyntheticModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What the agent's HTTP engine adds to the first token: one llama-server on loopback (the tiny
 * synthetic model, the agent's server flags that matter for latency), the same chat request sent in
 * turn through {@link HttpEngine} (call to the listener's first piece; on loopback it uses {@link
 * LoopbackHttpClient}), through the same engine on the JDK's {@code HttpClient} (as it was before
 * that client), through the JDK's {@code HttpClient} alone, and by a minimal client on a fresh
 * socket (connect to the first {@code data:} line carrying content). Both open a new connection per
 * request, as llama-server closes it after a streamed answer.
 *
 * <p>Usage: {@code HttpFirstTokenBench [ROUNDS] [LLAMA_SERVER]}. Prints medians and p90 and RESULT
 * lines for bench/run.
 */
public final class HttpFirstTokenBench {

  private HttpFirstTokenBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    Path exe =
        Path.of(
            args.length > 1
                ? args[1]
                : System.getProperty("user.home")
                    + "/.cache/edgeslm/llama.cpp/current/bin/llama-server");
    Path dir = Files.createTempDirectory("edgeslm-http-ttft-");
    SyntheticModel m = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, 42);
    Path gguf = dir.resolve(m.suggestedFileName());
    m.write(gguf);
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Process server =
        new ProcessBuilder(
                exe.toString(),
                "--model",
                gguf.toString(),
                "--host",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--ctx-size",
                "2048",
                "--parallel",
                "1",
                "--threads",
                "2",
                "--threads-batch",
                "2",
                "--threads-http",
                "2",
                "--no-webui",
                "--sse-ping-interval",
                "-1")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("llama-server.log").toFile())
            .start();
    try {
      URI base = URI.create("http://127.0.0.1:" + port);
      HttpEngine engine = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (engine == null) {
        try {
          engine =
              HttpEngine.open(
                  EngineConfig.HttpBackend.of(base, "tiny", true),
                  new HttpEngine.Options("llama-server", true, true, false, why -> {}),
                  ModelSpec.of(gguf, 2, 2048),
                  Clock.systemUTC());
        } catch (Exception e) {
          if (System.nanoTime() > deadline || !server.isAlive()) {
            throw e;
          }
          Thread.sleep(200);
        }
      }
      // The same engine on the JDK's HttpClient, as it was before the loopback client.
      HttpEngine jdkEngine =
          HttpEngine.openWithJdkClient(
              EngineConfig.HttpBackend.of(base, "tiny", true),
              new HttpEngine.Options("llama-server", true, true, false, why -> {}),
              ModelSpec.of(gguf, 2, 2048),
              Clock.systemUTC());
      GenerationRequest request =
          GenerationRequest.ofChat(
                  List.of(
                      ChatMessage.system(
                          "You answer operators' questions about one machine in one or two short"
                              + " sentences, from the sensor values below.\n"
                              + "press3.temperature = 61.2 C at 08:14:03\n"
                              + "press3.pressure = 182 bar at 08:14:03"),
                      ChatMessage.user("Is press 3 running hot right now?")),
                  8)
              .withSampling(0.0, 1);
      byte[] body = engine.body(request).toString().getBytes(StandardCharsets.UTF_8);
      List<Double> ours = new ArrayList<>();
      List<Double> direct = new ArrayList<>();
      List<Double> jdk = new ArrayList<>();
      List<Double> oursOnJdk = new ArrayList<>();
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      System.out.println("load before: " + load());
      for (int i = 0; i < rounds + 5; i++) {
        double a = throughEngine(engine, request);
        double b = directly(port, body);
        double c = jdkClient(client, port, body);
        double d = throughEngine(jdkEngine, request);
        if (i >= 5) { // the first rounds warm every path
          oursOnJdk.add(d);
          ours.add(a);
          direct.add(b);
          jdk.add(c);
        }
      }
      System.out.println("load after: " + load());
      engine.close();
      jdkEngine.close();
      double mo = pct(ours, 50);
      double md = pct(direct, 50);
      System.out.printf(
          "HTTP engine, call to first piece: median %.2f ms (p90 %.2f)%n", mo, pct(ours, 90));
      System.out.printf(
          "minimal client, connect to first content event: median %.2f ms (p90 %.2f)%n",
          md, pct(direct, 90));
      System.out.printf(
          "JDK HttpClient alone (platform thread), call to first content event: median %.2f ms"
              + " (p90 %.2f)%n",
          pct(jdk, 50), pct(jdk, 90));
      System.out.printf(
          "HTTP engine on the JDK HttpClient (as before the loopback client): median %.2f ms"
              + " (p90 %.2f)%n",
          pct(oursOnJdk, 50), pct(oursOnJdk, 90));
      System.out.printf("added by the HTTP engine at the median: %.2f ms%n", mo - md);
      System.out.printf(
          "added by the HTTP engine on the JDK HttpClient at the median: %.2f ms%n",
          pct(oursOnJdk, 50) - md);
      double mj = pct(jdk, 50);
      System.out.printf(
          "RESULT name=engine.http-first-token measured=%.2f baseline=%.2f unit=ms ratio=%.3f"
              + " target=- met=- desc=first token through the agent's HTTP engine vs a minimal"
              + " client on a fresh socket sending the same request to the same llama-server"
              + " (tiny model, %d rounds interleaved; added %.2f ms)%n",
          mo, md, mo / md, rounds, mo - md);
      System.out.printf(
          "RESULT name=engine.http-first-token-jdk measured=%.2f baseline=%.2f unit=ms ratio=%.3f"
              + " target=- met=- desc=the same request through the JDK's HttpClient alone (what"
              + " the HTTP engine is built on) vs the minimal client (added %.2f ms)%n",
          mj, md, mj / md, mj - md);
    } finally {
      server.destroy();
      if (!server.waitFor(5, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  private static double throughEngine(HttpEngine engine, GenerationRequest request)
      throws Exception {
    CompletableFuture<Long> first = new CompletableFuture<>();
    long t0 = System.nanoTime();
    var g =
        engine.generate(
            request,
            piece -> {
              if (!piece.isEmpty()) {
                first.complete(System.nanoTime());
              }
            });
    g.result().get(30, TimeUnit.SECONDS);
    long t1 = first.getNow(-1L);
    if (t1 < 0) {
      throw new IllegalStateException("the engine streamed no text");
    }
    return (t1 - t0) / 1e6;
  }

  private static double directly(int port, byte[] body) throws Exception {
    long t0 = System.nanoTime();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setTcpNoDelay(true);
      OutputStream out = s.getOutputStream();
      String head =
          "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              + "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
              + "Content-Length: "
              + body.length
              + "\r\n\r\n";
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      return (firstContentNanos(s.getInputStream()) - t0) / 1e6;
    }
  }

  private static double jdkClient(HttpClient client, int port, byte[] body) throws Exception {
    long t0 = System.nanoTime();
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    HttpResponse<InputStream> r = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      return (firstContentNanos(in) - t0) / 1e6;
    }
  }

  /**
   * Reads a streamed answer to its end ({@code data: [DONE]}) and returns when its first event with
   * text arrived. The first event may carry only the role, so the first token is the first
   * non-empty {@code content}.
   */
  private static long firstContentNanos(InputStream stream) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8));
    long first = -1;
    String line;
    while ((line = in.readLine()) != null) {
      if (first < 0
          && line.startsWith("data: ")
          && line.contains("\"content\":\"")
          && !line.contains("\"content\":\"\"")) {
        first = System.nanoTime();
      }
      if (line.startsWith("data: [DONE]")) {
        break;
      }
    }
    if (first < 0) {
      throw new IllegalStateException("the server streamed no content");
    }
    return first;
  }

  private static double pct(List<Double> xs, int p) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1));
  }

  private static String load() throws Exception {
    return Files.readString(Path.of("/proc/loadavg")).trim();
  }
}
