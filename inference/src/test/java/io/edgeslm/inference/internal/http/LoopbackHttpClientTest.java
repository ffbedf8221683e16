package io.edgeslm.inference.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The loopback client against a real socket peer that answers each request with the next scripted
 * reply (or closes the connection), so framing, reuse and the limits are seen on the wire.
 */
class LoopbackHttpClientTest {

  /** What the peer does with one request on one connection. */
  interface Script {
    /** Returns false to close the connection after answering. */
    boolean answer(String requestHead, OutputStream out) throws IOException;
  }

  ServerSocket server;
  Thread acceptor;
  final List<Script> scripts = new CopyOnWriteArrayList<>();
  final List<String> heads = new CopyOnWriteArrayList<>();
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger next = new AtomicInteger();
  LoopbackHttpClient client;

  @BeforeEach
  void start() throws IOException {
    server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    acceptor =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (!server.isClosed()) {
                    try {
                      Socket s = server.accept();
                      connections.incrementAndGet();
                      Thread.ofVirtual().start(() -> serve(s));
                    } catch (IOException closed) {
                      return;
                    }
                  }
                });
    client =
        new LoopbackHttpClient(
            URI.create("http://127.0.0.1:" + server.getLocalPort()),
            Duration.ofSeconds(2),
            2,
            new LoopbackHttpClient.Limits(256, 8, 1024, 1 << 16));
  }

  @AfterEach
  void stop() throws IOException {
    client.close();
    server.close();
  }

  void serve(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      while (true) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        int length = 0;
        for (String l : head.split("\r\n")) {
          if (l.toLowerCase().startsWith("content-length:")) {
            length = Integer.parseInt(l.substring(15).strip());
          }
        }
        String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        heads.add(head + "\r\n\r\n" + body);
        Script script = scripts.get(Math.min(next.getAndIncrement(), scripts.size() - 1));
        boolean keep = script.answer(head, out);
        out.flush();
        if (!keep) {
          return;
        }
      }
    } catch (IOException gone) {
      // The client closed the connection.
    }
  }

  static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      String s = b.toString(StandardCharsets.US_ASCII);
      if (s.endsWith("\r\n\r\n")) {
        return s.substring(0, s.length() - 4);
      }
    }
    return null;
  }

  static Script sends(String raw, boolean keep) {
    return (head, out) -> {
      out.write(raw.getBytes(StandardCharsets.UTF_8));
      return keep;
    };
  }

  static LoopbackHttpClient.Request get(String path) {
    return new LoopbackHttpClient.Request("GET", path, Map.of(), null, true, Duration.ofSeconds(2));
  }

  String body(LoopbackHttpClient.Request req) throws IOException {
    try (LoopbackHttpClient.Response r = client.send(req, s -> {})) {
      return r.statusCode() + " " + r.bodyString();
    }
  }

  @Test
  void contentLength_bodyIsRead_andTheConnectionReused() throws Exception {
    scripts.add(sends("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", true));

    assertThat(body(get("/v1/models"))).isEqualTo("200 hello");
    assertThat(body(get("/v1/models"))).isEqualTo("200 hello");

    assertThat(connections).hasValue(1);
    assertThat(heads.get(0)).startsWith("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:");
  }

  @Test
  void postBody_goesOutWithItsLengthAndHeaders() throws Exception {
    scripts.add(sends("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true));
    byte[] json = "{\"content\":\"é\"}".getBytes(StandardCharsets.UTF_8);

    body(
        new LoopbackHttpClient.Request(
            "POST",
            "/tokenize",
            Map.of("Authorization", "Bearer k"),
            json,
            true,
            Duration.ofSeconds(2)));

    assertThat(heads.get(0))
        .contains("Authorization: Bearer k\r\n")
        .contains("Content-Length: " + json.length + "\r\n")
        .endsWith("\r\n\r\n{\"content\":\"é\"}");
  }

  @Test
  void chunked_streamIsReadLineByLine_andTrailersDropped() throws Exception {
    scripts.add(
        sends(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "7\r\ndata: a\r\n"
                + "4;ext=1\r\n\ndat\r\n"
                + "6\r\na: b\n\n\r\n"
                + "0\r\nX-Trailer: 1\r\n\r\n",
            true));

    try (LoopbackHttpClient.Response r = client.send(get("/s"), s -> {})) {
      assertThat(r.statusCode()).isEqualTo(200);
      // Lines cross chunk boundaries: "data: a" ends in the second chunk, "data: b" spans two.
      assertThat(r.readLine(100)).isEqualTo("data: a");
      assertThat(r.readLine(100)).isEqualTo("data: b");
      assertThat(r.readLine(100)).isEmpty();
      assertThat(r.readLine(100)).isNull();
    }
    assertThat(client.idleConnections()).as("read to its end: kept").isEqualTo(1);
  }

  @Test
  void chunked_characterSplitBetweenChunksAndWrites_decodesWhole() throws Exception {
    // "é" (2 bytes) and "🙂" (4 bytes, a surrogate pair in Java) cut inside their UTF-8 bytes, each
    // chunk written and flushed on its own so the client reads them apart.
    byte[] e = "é".getBytes(StandardCharsets.UTF_8);
    byte[] smile = "🙂".getBytes(StandardCharsets.UTF_8);
    byte[][] chunks = {
      concat("data: \"caf".getBytes(StandardCharsets.UTF_8), new byte[] {e[0]}),
      concat(new byte[] {e[1]}, " ".getBytes(StandardCharsets.UTF_8), new byte[] {smile[0]}),
      new byte[] {smile[1], smile[2]},
      concat(new byte[] {smile[3]}, "\"\r".getBytes(StandardCharsets.UTF_8)),
      "\n\n".getBytes(StandardCharsets.UTF_8)
    };
    scripts.add(
        (head, out) -> {
          out.write(
              ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                      + "Transfer-Encoding: chunked\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          for (byte[] c : chunks) {
            out.write((Integer.toHexString(c.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(c);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            try {
              Thread.sleep(20);
            } catch (InterruptedException ex) {
              throw new IOException(ex);
            }
          }
          out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          return true;
        });

    try (LoopbackHttpClient.Response r = client.send(get("/s"), s -> {})) {
      assertThat(r.readLine(100)).isEqualTo("data: \"café 🙂\"");
      assertThat(r.readLine(100)).isEmpty();
      assertThat(r.readLine(100)).isNull();
    }
    assertThat(client.idleConnections()).as("read to its end: kept").isEqualTo(1);
  }

  @Test
  void bodyLines_growPastTheirFirstBuffer_andStopAtTheLimit() throws IOException {
    String longLine = "x".repeat(10_000); // 10,001 bytes with its CR
    LoopbackHttpClient.BodyLines lines =
        new LoopbackHttpClient.BodyLines(
            trickle(
                (longLine + "\r\n" + "y".repeat(10_002) + "\n").getBytes(StandardCharsets.UTF_8)));

    assertThat(lines.next(10_001)).isEqualTo(longLine);
    assertThatThrownBy(() -> lines.next(10_001))
        .isInstanceOf(IOException.class)
        .hasMessage("a body line of the response is longer than 10001 bytes (limit of the reader)");
  }

  @Test
  void bodyLines_crAndLfInTwoReads_endOneLine_andAnEndInsideALineFails() throws IOException {
    LoopbackHttpClient.BodyLines lines =
        new LoopbackHttpClient.BodyLines(
            trickle("a\r\n\nb\rc\nlast".getBytes(StandardCharsets.UTF_8)));

    assertThat(lines.next(10)).isEqualTo("a");
    assertThat(lines.next(10)).isEmpty();
    assertThat(lines.next(10)).as("a CR inside a line stays").isEqualTo("b\rc");
    assertThatThrownBy(() -> lines.next(10))
        .isInstanceOf(java.io.EOFException.class)
        .hasMessage("the connection ended inside a body line");
  }

  /** A stream that hands out one byte per read, as a slow peer would. */
  static InputStream trickle(byte[] bytes) {
    return new InputStream() {
      int at;

      @Override
      public int read() {
        return at < bytes.length ? bytes[at++] & 0xff : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (at >= bytes.length) {
          return -1;
        }
        b[off] = bytes[at++];
        return 1;
      }
    };
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return b.toByteArray();
  }

  @Test
  void bodyClosedBeforeItsEnd_closesTheConnection() throws Exception {
    scripts.add(sends("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", true));

    try (LoopbackHttpClient.Response r = client.send(get("/s"), s -> {})) {
      assertThat(r.body().read()).isEqualTo('a');
    }

    assertThat(client.idleConnections()).isZero();
  }

  @Test
  void keptAliveConnectionClosedByServer_idempotentRequest_isSentOnceMoreOnANewOne()
      throws Exception {
    // The first answer keeps the connection; the peer then closes it unanswered.
    scripts.add(sends("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", true));
    scripts.add((head, out) -> false);
    scripts.add(sends("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n3", true));

    assertThat(body(get("/a"))).isEqualTo("200 1");
    assertThat(body(get("/b"))).isEqualTo("200 3");

    assertThat(connections).hasValue(2);
    assertThat(heads).hasSize(3);
  }

  @Test
  void keptAliveConnectionClosedByServer_notIdempotent_failsWithoutARetry() throws Exception {
    scripts.add(sends("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", true));
    scripts.add((head, out) -> false);
    body(get("/a"));

    LoopbackHttpClient.Request generate =
        new LoopbackHttpClient.Request(
            "POST",
            "/v1/completions",
            Map.of(),
            new byte[] {'{', '}'},
            false,
            Duration.ofSeconds(2));
    assertThatThrownBy(() -> client.send(generate, s -> {}))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed the connection before answering POST /v1/completions");

    assertThat(heads).as("sent once").hasSize(2);
  }

  @Test
  void connectionCloseHeader_isNotReused() throws Exception {
    scripts.add(sends("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false));

    body(get("/a"));
    body(get("/a"));

    assertThat(connections).hasValue(2);
  }

  @Test
  void tooManyHeaders_areRejectedNamingTheLimit() {
    scripts.add(sends("HTTP/1.1 200 OK\r\n" + "A: b\r\n".repeat(9) + "\r\n", false));

    assertThatThrownBy(() -> body(get("/a")))
        .isInstanceOf(IOException.class)
        .hasMessage("the response has more than 8 header lines (limit maxHeaders)");
  }

  @Test
  void oversizedHeaderLine_isRejectedNamingTheLimit() {
    scripts.add(sends("HTTP/1.1 200 OK\r\nA: " + "b".repeat(300) + "\r\n\r\n", false));

    assertThatThrownBy(() -> body(get("/a")))
        .isInstanceOf(IOException.class)
        .hasMessage("a header line of the response is longer than 256 bytes (limit maxLineBytes)");
  }

  @Test
  void oversizedHead_isRejectedNamingTheLimit() {
    scripts.add(sends("HTTP/1.1 200 OK\r\n" + ("A: " + "b".repeat(200) + "\r\n").repeat(6), false));

    assertThatThrownBy(() -> body(get("/a")))
        .isInstanceOf(IOException.class)
        .hasMessage("the response head is larger than 1024 bytes (limit maxHeaderBytes)");
  }

  @Test
  void notHttp_isRejectedQuotingTheLine() {
    scripts.add(sends("SSH-2.0-OpenSSH\r\n\r\n", false));

    assertThatThrownBy(() -> body(get("/a")))
        .isInstanceOf(IOException.class)
        .hasMessage("not an HTTP/1.x status line: 'SSH-2.0-OpenSSH'");
  }

  @Test
  void noAnswerWithinTheTimeout_isAnHttpTimeout() {
    scripts.add(
        (head, out) -> {
          try {
            Thread.sleep(2_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return false;
        });
    LoopbackHttpClient.Request slow =
        new LoopbackHttpClient.Request("GET", "/a", Map.of(), null, true, Duration.ofMillis(200));

    assertThatThrownBy(() -> client.send(slow, s -> {}))
        .isInstanceOf(HttpTimeoutException.class)
        .hasMessage("GET /a had no answer after PT0.2S");
  }

  @Test
  void socketHandle_closedWhileWaiting_endsTheExchange() throws Exception {
    scripts.add(
        (head, out) -> {
          try {
            Thread.sleep(10_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return false;
        });
    LoopbackHttpClient.Request req =
        new LoopbackHttpClient.Request("GET", "/a", Map.of(), null, true, Duration.ofSeconds(30));

    // Closed by the handle, the wait ends in "Socket closed", not in the peer's end of stream.
    assertThatThrownBy(
            () ->
                client.send(
                    req,
                    socket ->
                        Thread.ofVirtual()
                            .start(
                                () -> {
                                  try {
                                    Thread.sleep(100);
                                    socket.close();
                                  } catch (Exception ignored) {
                                    // The test fails below if it did not close.
                                  }
                                })))
        .isInstanceOf(java.net.SocketException.class);
  }

  @Test
  void applies_onlyToPlainHttpOnLoopback() {
    assertThat(LoopbackHttpClient.applies(URI.create("http://127.0.0.1:8080"))).isTrue();
    assertThat(LoopbackHttpClient.applies(URI.create("http://localhost:11434/"))).isTrue();
    assertThat(LoopbackHttpClient.applies(URI.create("http://[::1]:8080"))).isTrue();
    assertThat(LoopbackHttpClient.applies(URI.create("https://127.0.0.1:8080"))).isFalse();
    assertThat(LoopbackHttpClient.applies(URI.create("http://10.0.0.5:8080"))).isFalse();
    assertThat(LoopbackHttpClient.applies(URI.create("http://inference.example.com"))).isFalse();
  }
}
