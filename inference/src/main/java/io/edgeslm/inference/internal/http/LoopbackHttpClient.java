package io.edgeslm.inference.internal.http;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A small HTTP/1.1 client for a server on this machine's loopback interface (the llama-server the
 * agent supervises): one blocking socket per exchange with {@code TCP_NODELAY}, the request head
 * and body written in one call, keep-alive connections kept in a small bounded pool, responses
 * framed by {@code Content-Length}, chunked transfer-encoding or the connection's end.
 *
 * <p>Why not the JDK's {@code HttpClient}: on loopback it added about 5 ms to each streamed first
 * token (its selector thread and the hand-offs between it, the caller and the body subscriber; see
 * docs/benchmarks.md, "The HTTP engine's share"), more than the whole model's first token of a
 * small prompt. A loopback peer needs none of what that client is for (TLS, proxies, HTTP/2,
 * redirects, authentication challenges), so {@link HttpEngine} keeps it for every other server.
 *
 * <p>Bounds: the status line, each header line and each chunk-size line at most {@link
 * Limits#maxLineBytes}, at most {@link Limits#maxHeaders} header lines and {@link
 * Limits#maxHeaderBytes} for the whole head; a response that exceeds one fails with an {@link
 * IOException} naming the limit and the value. Retries: a request is sent again once, on a new
 * connection, only when a kept-alive connection failed before the request was written, or when it
 * is idempotent and the kept-alive connection ended before any byte of the answer (the server
 * closed it while idle).
 */
final class LoopbackHttpClient implements Closeable {

  /**
   * Bounds on what a server may send.
   *
   * @param maxLineBytes the longest status, header or chunk-size line, and the longest line {@link
   *     Response#readLine} returns
   * @param maxHeaders the most header lines of one response
   * @param maxHeaderBytes the most bytes of one response's head
   * @param maxBodyBytes the most bytes {@link Response#bodyString} reads
   */
  record Limits(int maxLineBytes, int maxHeaders, int maxHeaderBytes, int maxBodyBytes) {
    Limits {
      positive("maxLineBytes", maxLineBytes);
      positive("maxHeaders", maxHeaders);
      positive("maxHeaderBytes", maxHeaderBytes);
      positive("maxBodyBytes", maxBodyBytes);
    }

    /** 8 KiB lines, 100 headers, 64 KiB of head, 16 MiB of buffered body. */
    static Limits defaults() {
      return new Limits(8 << 10, 100, 64 << 10, 16 << 20);
    }

    private static void positive(String name, int v) {
      if (v <= 0) {
        throw new IllegalArgumentException(name + " must be positive, was " + v);
      }
    }
  }

  /** Connections idle longer than this are closed, not reused: below llama-server's 5 s. */
  static final Duration MAX_IDLE = Duration.ofSeconds(2);

  private final InetSocketAddress address;
  private final String hostHeader;
  private final Duration connectTimeout;
  private final int poolSize;
  private final Limits limits;
  private final ArrayDeque<Connection> idle = new ArrayDeque<>();
  private boolean closed;

  /**
   * A client for the server at {@code base} (http, a loopback host).
   *
   * @param poolSize the most idle connections kept for reuse
   */
  LoopbackHttpClient(URI base, Duration connectTimeout, int poolSize, Limits limits) {
    if (!applies(base)) {
      throw new IllegalArgumentException(
          "LoopbackHttpClient serves http:// URIs on a loopback host only, was '" + base + "'.");
    }
    this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
    if (poolSize < 0) {
      throw new IllegalArgumentException("poolSize must be 0 or more, was " + poolSize);
    }
    this.poolSize = poolSize;
    this.limits = Objects.requireNonNull(limits, "limits");
    int port = base.getPort() < 0 ? 80 : base.getPort();
    this.address = new InetSocketAddress(base.getHost(), port);
    this.hostHeader = base.getRawAuthority();
  }

  /**
   * Whether this client can serve {@code uri}: plain http to {@code localhost} or a loopback
   * address literal (no name is looked up for the check).
   */
  static boolean applies(URI uri) {
    if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
      return false;
    }
    String host = uri.getHost();
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (!host.matches("[0-9.]+") && !host.contains(":")) {
      return false;
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * One request.
   *
   * @param method GET or POST
   * @param target the path and query, starting with "/"
   * @param headers more headers (not Host, Content-Length or Connection)
   * @param body the request body, null for none
   * @param idempotent whether sending it twice is harmless (decides the one retry)
   * @param timeout bounds the connect and every wait for bytes of the response head
   */
  record Request(
      String method,
      String target,
      Map<String, String> headers,
      byte[] body,
      boolean idempotent,
      Duration timeout) {
    Request {
      Objects.requireNonNull(method, "method");
      if (!target.startsWith("/")) {
        throw new IllegalArgumentException("target must start with '/', was '" + target + "'.");
      }
      headers = Map.copyOf(headers);
      Objects.requireNonNull(timeout, "timeout");
    }
  }

  /**
   * Sends {@code req} and returns once the response head has arrived.
   *
   * @param onSocket gets a handle that closes the exchange's socket, before anything is written: a
   *     caller's way to cut a request that has no answer yet
   * @throws HttpTimeoutException if the connect or the response head took longer than the request's
   *     timeout ({@link HttpConnectTimeoutException} for the connect)
   * @throws IOException if the server could not be reached or answered outside HTTP/1.1 or the
   *     limits
   */
  Response send(Request req, Consumer<Closeable> onSocket) throws IOException {
    Connection c = pooled();
    boolean reused = c != null;
    if (c == null) {
      c = connect(req.timeout());
    }
    onSocket.accept(c);
    try {
      return exchange(c, req);
    } catch (NotSent | EmptyAnswer e) {
      c.close();
      if (!reused || (e instanceof EmptyAnswer && !req.idempotent())) {
        throw (IOException) e.getCause();
      }
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    // Once, on a new connection: the kept-alive one was closed by the server while idle.
    Connection fresh = connect(req.timeout());
    onSocket.accept(fresh);
    try {
      return exchange(fresh, req);
    } catch (NotSent | EmptyAnswer e) {
      fresh.close();
      throw (IOException) e.getCause();
    } catch (IOException | RuntimeException e) {
      fresh.close();
      throw e;
    }
  }

  /** Closes the idle connections; exchanges in flight end when their callers close them. */
  @Override
  public void close() {
    synchronized (idle) {
      closed = true;
      idle.forEach(Connection::close);
      idle.clear();
    }
  }

  /** Idle connections held for reuse, for tests. */
  int idleConnections() {
    synchronized (idle) {
      return idle.size();
    }
  }

  private Connection pooled() {
    long now = System.nanoTime();
    synchronized (idle) {
      Connection c;
      while ((c = idle.pollLast()) != null) {
        if (now - c.idleSince < MAX_IDLE.toNanos() && !c.socket.isClosed()) {
          return c;
        }
        c.close();
      }
      return null;
    }
  }

  private void release(Connection c) {
    synchronized (idle) {
      if (!closed && idle.size() < poolSize && !c.socket.isClosed()) {
        c.idleSince = System.nanoTime();
        idle.addLast(c);
        return;
      }
    }
    c.close();
  }

  private Connection connect(Duration timeout) throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.connect(address, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    } catch (SocketTimeoutException e) {
      closeQuietly(s);
      throw new HttpConnectTimeoutException(
          "connect to " + address + " timed out after " + connectTimeout);
    } catch (IOException e) {
      closeQuietly(s);
      throw e;
    }
    return new Connection(s);
  }

  private Response exchange(Connection c, Request req) throws IOException {
    byte[] head = head(req);
    try {
      c.socket.setSoTimeout(
          (int) Math.max(1, Math.min(Integer.MAX_VALUE, req.timeout().toMillis())));
      OutputStream out = c.socket.getOutputStream();
      if (req.body() == null || req.body().length == 0) {
        out.write(head);
      } else {
        // One write, so that with TCP_NODELAY head and body usually leave as one segment.
        byte[] all = new byte[head.length + req.body().length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(req.body(), 0, all, head.length, req.body().length);
        out.write(all);
      }
      out.flush();
    } catch (IOException e) {
      throw new NotSent(e);
    }
    Response r;
    try {
      r = readHead(c, req);
    } catch (SocketTimeoutException e) {
      throw new HttpTimeoutException(
          req.method() + " " + req.target() + " had no answer after " + req.timeout());
    }
    // The body has no read timeout: a stream's pace is the caller's to watch (HttpEngine's
    // watchdog), and buffered reads are bounded by the same watchdog-free timeout as the head.
    c.socket.setSoTimeout(r.streaming ? 0 : c.socket.getSoTimeout());
    return r;
  }

  private byte[] head(Request req) {
    StringBuilder h = new StringBuilder(256);
    h.append(req.method()).append(' ').append(req.target()).append(" HTTP/1.1\r\n");
    h.append("Host: ").append(hostHeader).append("\r\n");
    for (Map.Entry<String, String> e : req.headers().entrySet()) {
      String name = e.getKey();
      String value = e.getValue();
      if (name.indexOf('\r') >= 0
          || name.indexOf('\n') >= 0
          || value.indexOf('\r') >= 0
          || value.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("header " + name + " holds a line break");
      }
      h.append(name).append(": ").append(value).append("\r\n");
    }
    if (req.body() != null) {
      h.append("Content-Length: ").append(req.body().length).append("\r\n");
    }
    h.append("\r\n");
    return h.toString().getBytes(StandardCharsets.UTF_8);
  }

  private Response readHead(Connection c, Request req) throws IOException {
    InputStream in = c.in;
    long before = c.bytesRead;
    while (true) {
      String status = line(in, limits.maxLineBytes(), "status line");
      if (status == null) {
        IOException e =
            new EOFException(
                "the server closed the connection before answering "
                    + req.method()
                    + " "
                    + req.target());
        throw c.bytesRead == before ? new EmptyAnswer(e) : e;
      }
      if (!status.startsWith("HTTP/1.") || status.length() < 12 || status.charAt(8) != ' ') {
        throw new IOException("not an HTTP/1.x status line: '" + printable(status) + "'");
      }
      int code;
      try {
        code = Integer.parseInt(status.substring(9, 12));
      } catch (NumberFormatException e) {
        throw new IOException("no status code in '" + printable(status) + "'");
      }
      Map<String, String> headers = new LinkedHashMap<>();
      int count = 0;
      int bytes = status.length() + 2;
      String line;
      while (!(line = required(line(in, limits.maxLineBytes(), "header line"), "header line"))
          .isEmpty()) {
        if (++count > limits.maxHeaders()) {
          throw new IOException(
              "the response has more than "
                  + limits.maxHeaders()
                  + " header lines (limit maxHeaders)");
        }
        bytes += line.length() + 2;
        if (bytes > limits.maxHeaderBytes()) {
          throw new IOException(
              "the response head is larger than "
                  + limits.maxHeaderBytes()
                  + " bytes (limit maxHeaderBytes)");
        }
        int colon = line.indexOf(':');
        if (colon <= 0) {
          throw new IOException("malformed header line '" + printable(line) + "'");
        }
        String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).strip();
        headers.merge(name, value, (a, b) -> a + ", " + b);
      }
      if (code >= 100 && code < 200 && code != 101) {
        continue; // an interim answer (100 Continue, 103 Early Hints): the real one follows
      }
      return new Response(c, req, code, headers);
    }
  }

  /**
   * Reads one CRLF- (or LF-) terminated line of at most {@code max} bytes, without the end; null if
   * the stream ended before its first byte.
   */
  static String line(InputStream in, int max, String what) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(Math.min(max, 128));
    int n = 0;
    while (true) {
      int ch = in.read();
      if (ch < 0) {
        if (n == 0) {
          return null;
        }
        throw new EOFException("the connection ended inside a " + what);
      }
      if (ch == '\n') {
        byte[] a = b.toByteArray();
        int len = a.length > 0 && a[a.length - 1] == '\r' ? a.length - 1 : a.length;
        return new String(a, 0, len, StandardCharsets.UTF_8);
      }
      if (++n > max) {
        throw new IOException(
            "a "
                + what
                + " of the response is longer than "
                + max
                + " bytes (limit "
                + (what.equals("body line") ? "of the reader" : "maxLineBytes")
                + ")");
      }
      b.write(ch);
    }
  }

  private static String required(String line, String what) throws EOFException {
    if (line == null) {
      throw new EOFException("the connection ended before a " + what);
    }
    return line;
  }

  private static String printable(String s) {
    String one = s.length() > 200 ? s.substring(0, 200) + "..." : s;
    return one.replaceAll("[^\\x20-\\x7e]", "?");
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // Nothing more to release.
    }
  }

  /** The write failed: the server cannot have seen the request. */
  private static final class NotSent extends IOException {
    NotSent(IOException cause) {
      super(cause);
    }
  }

  /** The connection ended before any byte of the answer. */
  private static final class EmptyAnswer extends IOException {
    EmptyAnswer(IOException cause) {
      super(cause);
    }
  }

  /** One socket and its buffered input, counting bytes so a retry can tell "nothing came". */
  private static final class Connection implements Closeable {
    final Socket socket;
    final InputStream in;
    long bytesRead;
    long idleSince;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      InputStream raw = socket.getInputStream();
      this.in =
          new BufferedInputStream(
              new InputStream() {
                @Override
                public int read() throws IOException {
                  int b = raw.read();
                  if (b >= 0) {
                    bytesRead++;
                  }
                  return b;
                }

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                  int n = raw.read(buf, off, len);
                  if (n > 0) {
                    bytesRead += n;
                  }
                  return n;
                }
              },
              16 << 10);
    }

    @Override
    public void close() {
      closeQuietly(socket);
    }
  }

  /**
   * The lines of a response body, read in blocks: the SSE events of a stream came through a
   * byte-at-a-time {@link #line} before, several calls and an allocation per byte of every event. A
   * line is cut at LF (a CR before it dropped) and decoded as UTF-8 once it is whole, so a
   * character split between two reads, or two chunks of the body, decodes as one. It reads ahead
   * within the body only, so {@link Response#body()} must not be read once lines are.
   */
  static final class BodyLines {
    private final InputStream in;
    private byte[] buf = new byte[4096];
    private int start;
    private int end;
    private boolean eof;

    BodyLines(InputStream in) {
      this.in = in;
    }

    /**
     * The next line, or null if the body ended before its first byte.
     *
     * @throws IOException if the line is longer than {@code max} bytes (its CR counted), or the
     *     body ends inside it
     */
    String next(int max) throws IOException {
      int scanned = 0; // bytes after start already looked at
      while (true) {
        for (int i = start + scanned; i < end; i++) {
          if (buf[i] == '\n') {
            if (i - start > max) {
              throw tooLong(max);
            }
            int len = i > start && buf[i - 1] == '\r' ? i - 1 - start : i - start;
            String line = new String(buf, start, len, StandardCharsets.UTF_8);
            start = i + 1;
            return line;
          }
        }
        scanned = end - start;
        if (scanned > max) {
          throw tooLong(max);
        }
        if (eof) {
          if (end == start) {
            return null;
          }
          throw new EOFException("the connection ended inside a body line");
        }
        fill(max);
      }
    }

    /** Reads more, after moving the unread bytes to the front or growing the buffer. */
    private void fill(int max) throws IOException {
      if (start > 0) {
        System.arraycopy(buf, start, buf, 0, end - start);
        end -= start;
        start = 0;
      }
      if (end == buf.length) {
        // Room for one byte past the limit, so that a line too long is seen as such.
        int grown = (int) Math.min((long) max + 2, 2L * buf.length);
        if (grown <= buf.length) {
          throw tooLong(max);
        }
        buf = java.util.Arrays.copyOf(buf, grown);
      }
      int n = in.read(buf, end, buf.length - end);
      if (n < 0) {
        eof = true;
      } else {
        end += n;
      }
    }

    private static IOException tooLong(int max) {
      return new IOException(
          "a body line of the response is longer than " + max + " bytes (limit of the reader)");
    }
  }

  /**
   * A response whose head has been read. Closing it after its body was read to the end hands a
   * keep-alive connection back to the pool; closing it earlier closes the socket (and is how a
   * caller cuts a stream).
   */
  final class Response implements Closeable {
    private final Connection connection;
    private final int status;
    private final Map<String, String> headers;
    private final InputStream body;
    private final boolean keepAlive;
    final boolean streaming;
    private boolean done;
    private boolean closed;

    /** The body's line reader, made by the first {@link #readLine}. */
    private BodyLines lines;

    private Response(Connection c, Request req, int status, Map<String, String> headers)
        throws IOException {
      this.connection = c;
      this.status = status;
      this.headers = headers;
      String te = headers.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT);
      String length = headers.get("content-length");
      boolean close =
          headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT).contains("close");
      if (req.method().equals("HEAD") || status == 204 || status == 304) {
        body = InputStream.nullInputStream();
        done = true;
        keepAlive = !close;
      } else if (te.endsWith("chunked")) {
        body = new Chunked(c.in);
        keepAlive = !close;
      } else if (!te.isEmpty()) {
        throw new IOException("unsupported transfer-encoding '" + printable(te) + "'");
      } else if (length != null) {
        long n;
        try {
          n = Long.parseLong(length.strip());
        } catch (NumberFormatException e) {
          throw new IOException("malformed content-length '" + printable(length) + "'");
        }
        if (n < 0) {
          throw new IOException("negative content-length " + n);
        }
        body = new Fixed(c.in, n);
        done = n == 0;
        keepAlive = !close;
      } else {
        body = new ToEnd(c.in); // framed by the connection's end
        keepAlive = false;
      }
      this.streaming =
          headers
              .getOrDefault("content-type", "")
              .toLowerCase(Locale.ROOT)
              .startsWith("text/event-stream");
    }

    int statusCode() {
      return status;
    }

    /** A header's value (name case-insensitive; repeated headers joined with ", "), or null. */
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** The body, unframed; read it to the end (-1) to let the connection be reused. */
    InputStream body() {
      return body;
    }

    /**
     * The next line of the body (LF or CRLF ended, UTF-8), or null at its end.
     *
     * @throws IOException if the line is longer than {@code max} bytes, naming both
     */
    String readLine(int max) throws IOException {
      if (lines == null) {
        lines = new BodyLines(body);
      }
      return lines.next(max);
    }

    /** The whole body as UTF-8, at most {@link Limits#maxBodyBytes} bytes. */
    String bodyString() throws IOException {
      byte[] b = body.readNBytes(limits.maxBodyBytes() + 1);
      if (b.length > limits.maxBodyBytes()) {
        throw new IOException(
            "the response body is larger than "
                + limits.maxBodyBytes()
                + " bytes (limit maxBodyBytes)");
      }
      return new String(b, StandardCharsets.UTF_8);
    }

    /** At most {@code max} bytes of the body as UTF-8, for error messages. */
    String bodyPrefix(int max) throws IOException {
      return new String(body.readNBytes(max), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
      }
      if (done && keepAlive) {
        release(connection);
      } else {
        connection.close();
      }
    }

    /** A body's framing over the connection; closing it ends the exchange. */
    private abstract class Body extends InputStream {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public void close() {
        Response.this.close();
      }
    }

    private final class Fixed extends Body {
      private final InputStream in;
      private long left;

      Fixed(InputStream in, long n) {
        this.in = in;
        this.left = n;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (left == 0) {
          done = true;
          return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, left));
        if (n < 0) {
          throw new EOFException("the connection ended " + left + " bytes before the body's end");
        }
        left -= n;
        if (left == 0) {
          done = true;
        }
        return n;
      }
    }

    private final class ToEnd extends Body {
      private final InputStream in;

      ToEnd(InputStream in) {
        this.in = in;
      }

      @Override
      public int read() throws IOException {
        return in.read();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return in.read(b, off, len);
      }
    }

    /** Chunked transfer-encoding (RFC 9112 section 7.1); trailers are read and dropped. */
    private final class Chunked extends Body {
      private final InputStream in;
      private long left;
      private boolean end;

      Chunked(InputStream in) {
        this.in = in;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (end) {
          return -1;
        }
        if (left == 0) {
          String size = required(line(in, limits.maxLineBytes(), "chunk-size line"), "chunk size");
          int semi = size.indexOf(';');
          String hex = (semi >= 0 ? size.substring(0, semi) : size).strip();
          try {
            left = Long.parseLong(hex, 16);
          } catch (NumberFormatException e) {
            throw new IOException("malformed chunk size '" + printable(size) + "'");
          }
          if (left < 0) {
            throw new IOException("negative chunk size '" + printable(size) + "'");
          }
          if (left == 0) {
            int trailers = 0;
            while (!required(line(in, limits.maxLineBytes(), "trailer line"), "trailer line")
                .isEmpty()) {
              if (++trailers > limits.maxHeaders()) {
                throw new IOException(
                    "the response has more than "
                        + limits.maxHeaders()
                        + " trailer lines (limit maxHeaders)");
              }
            }
            end = true;
            done = true;
            return -1;
          }
        }
        int n = in.read(b, off, (int) Math.min(len, left));
        if (n < 0) {
          throw new EOFException("the connection ended inside a chunk");
        }
        left -= n;
        if (left == 0) {
          String crlf = required(line(in, 2, "chunk end"), "chunk end");
          if (!crlf.isEmpty()) {
            throw new IOException("a chunk is longer than its size line said");
          }
        }
        return n;
      }
    }
  }
}
