package io.edgeslm.fleet.internal.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fleetctl}: the release manager's command line for the fleet controller's REST API.
 *
 * <p>Conventions, for every command (new ones get them by throwing the exceptions below): {@code
 * -h}/{@code --help} on every command and subcommand prints its help and does nothing else; a
 * mistake in the command line is one sentence on stderr and exit code 2; no stack trace for
 * anything a user can cause. Exit codes ({@link #exitCode}): 0 success, 1 the controller refused
 * the request (its problem detail is printed), 2 usage error, 3 the controller cannot be reached, 4
 * the controller refused the token.
 */
@Command(
    name = "fleetctl",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT,
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:the controller refused the request (its problem detail is printed)",
      "2:usage error",
      "3:the controller cannot be reached (check --url or FLEET_URL)",
      "4:the controller refused the token (check --token or FLEET_TOKEN)"
    },
    version = "fleetctl 0.1.0",
    description = "Upload signed bundles and drive rollouts on an EdgeSLM fleet controller.",
    subcommands = {
      FleetCtl.Upload.class,
      FleetCtl.Nodes.class,
      FleetCtl.Bundles.class,
      FleetCtl.Rollout.class,
      FleetCtl.Token.class,
      FleetCtl.Api.class
    })
public final class FleetCtl {

  static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--url",
      defaultValue = "${env:FLEET_URL:-http://localhost:8080}",
      description = "Controller base URL (env FLEET_URL; default ${DEFAULT-VALUE}).")
  String url;

  @Option(
      names = "--token",
      defaultValue = "${env:FLEET_TOKEN}",
      description = "API bearer token (env FLEET_TOKEN).")
  String token;

  @Option(
      names = "--json",
      description =
          "Print results as JSON on stdout (the controller's own documents); progress stays on"
              + " stderr.")
  boolean json;

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  static final int SUCCESS = 0;
  static final int REFUSED = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;
  static final int TOKEN_REFUSED = 4;

  /** Runs the command line; returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new FleetCtl());
    cl.setOut(out);
    cl.setErr(err);
    // "@FILE" is api --data's own syntax; picocli would otherwise read it as an argument file.
    cl.setExpandAtFiles(false);
    cl.setParameterExceptionHandler(
        (e, a) -> {
          String badNumber = badNumber(e);
          String message = badNumber != null ? badNumber : e.getMessage().strip();
          e.getCommandLine()
              .getErr()
              .println(
                  "fleetctl: "
                      + message
                      + (message.endsWith(".") ? "" : ".")
                      + " See '"
                      + e.getCommandLine().getCommandSpec().qualifiedName()
                      + " --help'.");
          return USAGE;
        });
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("fleetctl: " + sentence(e, cmd));
          return exitCode(e);
        });
    return cl.execute(args);
  }

  /**
   * A value that is not a number, in the user's words; picocli's own message names Java types ("is
   * not an int") or the parser's exception. Null for any other parameter error.
   */
  static String badNumber(CommandLine.ParameterException e) {
    CommandLine.Model.ArgSpec arg = e.getArgSpec();
    boolean conversion =
        e.getCause() instanceof CommandLine.TypeConversionException
            || e.getCause() instanceof NumberFormatException;
    if (arg == null || e.getValue() == null || !conversion) {
      return null;
    }
    Class<?> t = arg.type();
    String kind;
    if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
      kind = "a whole number";
    } else if (t == double.class || t == Double.class) {
      kind = "a number";
    } else {
      return null;
    }
    String name =
        arg instanceof CommandLine.Model.OptionSpec o ? o.longestName() : arg.paramLabel();
    return name + " must be " + kind + ", got '" + e.getValue() + "'";
  }

  /** The exit code for what a command threw. */
  static int exitCode(Exception e) {
    return switch (e) {
      case UsageError u -> USAGE;
      case TokenRefused t -> TOKEN_REFUSED;
      case Refused r -> REFUSED;
      case Unreachable u -> UNREACHABLE;
      default -> REFUSED;
    };
  }

  /** One sentence for the user; for an unexpected failure its type and message, not a trace. */
  private static String sentence(Exception e, CommandLine cmd) {
    if (e instanceof UsageError) {
      return e.getMessage() + " See '" + cmd.getCommandSpec().qualifiedName() + " --help'.";
    }
    if (e instanceof Refused || e instanceof Unreachable) {
      return e.getMessage();
    }
    return "failed: " + describe(e) + ".";
  }

  static String describe(Throwable e) {
    if (e instanceof java.io.UncheckedIOException u && u.getCause() != null) {
      return describe(u.getCause());
    }
    // A file error's message is the bare path; say what went wrong with it.
    if (e instanceof java.nio.file.FileSystemException f) {
      String why =
          switch (f) {
            case java.nio.file.NoSuchFileException n -> "no such file";
            case java.nio.file.AccessDeniedException a -> "permission denied";
            default -> f.getReason() == null ? f.getClass().getSimpleName() : f.getReason();
          };
      return "file '" + f.getFile() + "': " + why;
    }
    return e.getMessage() == null || e.getMessage().isBlank()
        ? e.getClass().getSimpleName()
        : e.getMessage();
  }

  /** A mistake in the command line that picocli cannot see: one sentence, exit code 2. */
  static final class UsageError extends Exception {
    UsageError(String message) {
      super(message);
    }
  }

  /** The controller answered with an error status. */
  static class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  /** The controller answered 401 or 403: the token is missing, wrong, or lacks the role. */
  static final class TokenRefused extends Refused {
    TokenRefused(String message) {
      super(message);
    }
  }

  /** No answer from the controller at all. */
  static final class Unreachable extends Exception {
    Unreachable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  HttpClient http() {
    return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** Sends a request; a failure to reach the controller becomes one sentence naming the URL. */
  <T> HttpResponse<T> send(HttpClient http, HttpRequest request, HttpResponse.BodyHandler<T> body)
      throws Unreachable, InterruptedException {
    try {
      return http.send(request, body);
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  Unreachable unreachable(Throwable e) {
    String why =
        switch (e) {
          // The JDK's client reports a name it cannot resolve as a ConnectException too.
          case java.net.ConnectException c when unresolved(c) ->
              "unknown host '" + URI.create(url).getHost() + "'";
          case java.net.ConnectException c -> "connection refused";
          case java.net.http.HttpConnectTimeoutException t -> "no answer within 10 s";
          case java.net.UnknownHostException u -> "unknown host";
          default -> describe(e);
        };
    return new Unreachable(
        "cannot reach the fleet controller at " + url + " (" + why + "); check --url or FLEET_URL.",
        e);
  }

  private static boolean unresolved(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.nio.channels.UnresolvedAddressException
          || t instanceof java.net.UnknownHostException) {
        return true;
      }
    }
    return false;
  }

  /** One record of a collection: {@code GET /api/v1/{collection}/{id}}, the id encoded. */
  JsonNode record(String collection, String id) throws Exception {
    return call(
        "GET",
        "/api/v1/" + collection + "/" + java.net.URLEncoder.encode(id, StandardCharsets.UTF_8),
        null);
  }

  JsonNode call(String method, String path, JsonNode body) throws Exception {
    HttpRequest.Builder b = request(path);
    if (body != null) {
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return answer(send(http(), b.build(), HttpResponse.BodyHandlers.ofString()));
  }

  HttpRequest.Builder request(String path) throws UsageError {
    if (token == null || token.isBlank()) {
      throw new UsageError("No API token: pass --token or set FLEET_TOKEN.");
    }
    URI base;
    try {
      base = URI.create(url.replaceAll("/+$", "") + path);
    } catch (IllegalArgumentException e) {
      base = null;
    }
    if (base == null
        || !("http".equals(base.getScheme()) || "https".equals(base.getScheme()))
        || base.getHost() == null) {
      throw new UsageError(
          "--url '" + url + "' is not an http(s) URL like http://localhost:8080 (or FLEET_URL).");
    }
    return HttpRequest.newBuilder(base)
        .header("Authorization", "Bearer " + token)
        .header("Accept", "application/json");
  }

  static JsonNode answer(HttpResponse<String> r) throws Exception {
    JsonNode body;
    try {
      body = r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
    } catch (IOException e) {
      body = JSON.nullNode();
    }
    if (r.statusCode() >= 400) {
      String detail = body.hasNonNull("detail") ? body.get("detail").asText() : r.body().strip();
      String said = "HTTP " + r.statusCode() + (detail.isEmpty() ? "" : ": " + detail);
      if (r.statusCode() == 401 || r.statusCode() == 403) {
        throw new TokenRefused(
            "the controller refused the token ("
                + said
                + (r.statusCode() == 401 ? "); check --token or FLEET_TOKEN." : ")."));
      }
      throw new Refused("the controller refused the request (" + said + ").");
    }
    if (body.isNull() && !r.body().isEmpty()) {
      throw new Refused(
          "the controller's answer is not JSON (HTTP " + r.statusCode() + "); is --url right?");
    }
    return body;
  }

  /** The top-level command of {@code spec}, whichever parent it is registered under. */
  static FleetCtl root(CommandLine.Model.CommandSpec spec) {
    return (FleetCtl) spec.root().userObject();
  }

  @Command(
      name = "upload",
      description =
          "Upload a signed bundle directory; prints its bundle id (--json: the catalog entry)."
              + " Progress goes to stderr.")
  static final class Upload implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(
        paramLabel = "DIR",
        description = "The bundle directory (model, release.json, model.sig).")
    Path dir;

    @Override
    public Integer call() throws Exception {
      if (!Files.isDirectory(dir)) {
        throw new UsageError(
            "DIR '" + dir + "' is not a directory: give the signed bundle's directory.");
      }
      List<Path> files;
      try (Stream<Path> s = Files.walk(dir)) {
        files = s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
      }
      if (files.isEmpty()) {
        throw new UsageError(
            "DIR '" + dir + "' holds no files: give the signed bundle's directory.");
      }
      String boundary = "fleetctl-" + UUID.randomUUID();
      List<InputStream> parts = new ArrayList<>();
      long total = 0;
      for (Path f : files) {
        String name = dir.relativize(f).toString().replace('\\', '/');
        byte[] head =
            ("--"
                    + boundary
                    + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                    + name
                    + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8);
        parts.add(new ByteArrayInputStream(head));
        parts.add(Files.newInputStream(f));
        parts.add(new ByteArrayInputStream("\r\n".getBytes(StandardCharsets.UTF_8)));
        total += head.length + Files.size(f) + 2;
      }
      byte[] tail = ("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
      parts.add(new ByteArrayInputStream(tail));
      total += tail.length;
      long size = total;
      AtomicLong sent = new AtomicLong();
      FleetCtl root = root(spec);
      PrintWriter progress = spec.commandLine().getErr();
      Enumeration<InputStream> seq = Collections.enumeration(parts);
      long start = System.nanoTime();
      // Streams the files from disk; prints progress with the rate at every 10%.
      InputStream body =
          new java.io.FilterInputStream(new SequenceInputStream(seq)) {
            int lastTenth = -1;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              int n = super.read(b, off, len);
              if (n > 0) {
                long done = sent.addAndGet(n);
                int tenth = (int) (10 * done / size);
                if (tenth != lastTenth) {
                  lastTenth = tenth;
                  double seconds = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
                  progress.printf(
                      Locale.ROOT,
                      "uploading %d%% of %s, %s/s%n",
                      tenth * 10,
                      bytes(size),
                      bytes(done / seconds));
                }
              }
              return n;
            }
          };
      // The controller reports what it does with the bundle once received (verifying the
      // signature, hashing chunks) under this id; see GET /api/v1/uploads/{id}.
      String uploadId = "up-" + UUID.randomUUID();
      HttpRequest req =
          root.request("/api/v1/bundles")
              .header("Content-Type", "multipart/form-data; boundary=" + boundary)
              .header("Upload-Id", uploadId)
              .POST(
                  HttpRequest.BodyPublishers.fromPublisher(
                      HttpRequest.BodyPublishers.ofInputStream(() -> body), size))
              .build();
      HttpClient http = root.http();
      root.request("/api/v1/bundles"); // checks --token and --url before reading any file
      java.util.concurrent.CompletableFuture<HttpResponse<String>> pending =
          http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
      String lastShown = "";
      while (true) {
        try {
          HttpResponse<String> r = pending.get(1, java.util.concurrent.TimeUnit.SECONDS);
          JsonNode info = answer(r);
          JsonNode p = progress(http, uploadId);
          if (p != null) {
            double seconds =
                Duration.between(
                            java.time.Instant.parse(p.get("startedAt").asText()),
                            java.time.Instant.parse(p.get("updatedAt").asText()))
                        .toMillis()
                    / 1000.0;
            progress.printf(
                Locale.ROOT,
                "controller: verified and stored %s in %.1f s%n",
                bytes(p.get("bytesTotal").asLong()),
                seconds);
          }
          spec.commandLine()
              .getOut()
              .println(root.json ? info.toString() : info.get("bundleId").asText());
          return 0;
        } catch (java.util.concurrent.TimeoutException e) {
          if (sent.get() < size) {
            continue;
          }
          // Everything is sent: show what the controller is doing with it.
          JsonNode p = progress(http, uploadId);
          if (p != null) {
            String phase = p.get("phase").asText().toLowerCase(Locale.ROOT);
            long received = p.get("bytesTotal").asLong();
            String shown =
                phase.equals("hashing") && received > 0
                    ? String.format(
                        Locale.ROOT,
                        "controller: hashing chunks, %d%% of %s",
                        10 * (10 * p.get("bytesDone").asLong() / received),
                        bytes(received))
                    : "controller: " + phase;
            if (!shown.equals(lastShown)) {
              progress.println(shown);
              lastShown = shown;
            }
          }
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof IOException io && sent.get() == 0) {
            throw root.unreachable(io);
          }
          throw new IOException("the upload failed: " + describe(e.getCause()), e.getCause());
        }
      }
    }

    /** The controller's progress of the upload, or null if it has none (yet). */
    private JsonNode progress(HttpClient http, String uploadId) throws Exception {
      HttpResponse<String> r =
          root(spec)
              .send(
                  http,
                  root(spec).request("/api/v1/uploads/" + uploadId).GET().build(),
                  HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    }

    static String bytes(double n) {
      return Humanized.bytes((long) n);
    }
  }

  /** {@code a=1&b=2} from name/value pairs, leaving out null values; values URL-encoded. */
  static String query(Object... pairs) {
    StringBuilder q = new StringBuilder();
    for (int i = 0; i < pairs.length; i += 2) {
      if (pairs[i + 1] != null) {
        q.append(q.isEmpty() ? "" : "&")
            .append(pairs[i])
            .append('=')
            .append(
                java.net.URLEncoder.encode(String.valueOf(pairs[i + 1]), StandardCharsets.UTF_8));
      }
    }
    return q.toString();
  }

  /** Says on stderr that a list has more pages, so a table on stdout stays parseable. */
  static void more(CommandLine.Model.CommandSpec spec, JsonNode page) {
    if (page.hasNonNull("next")) {
      spec.commandLine()
          .getErr()
          .println("(more after " + page.get("next").asText() + "; raise --limit or use --json)");
    }
  }

  @Command(
      name = "node",
      aliases = "nodes",
      description = "List and show nodes.",
      subcommands = {Nodes.ListAll.class, Nodes.Get.class})
  static final class Nodes {
    @CommandLine.ParentCommand FleetCtl root;

    @Command(name = "list", description = "List nodes by id (--json: the controller's page).")
    static final class ListAll implements Callable<Integer> {
      @CommandLine.ParentCommand Nodes parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Option(names = "--status", description = "online, offline or unknown.")
      String status;

      @Option(names = "--site", description = "Only this site.")
      String site;

      @Option(names = "--label", description = "Only nodes with this label, key=value.")
      String label;

      @Option(names = "--search", description = "Node ids containing this text.")
      String search;

      @Option(names = "--limit", defaultValue = "100", description = "At most this many (1-500).")
      int limit;

      @Override
      public Integer call() throws Exception {
        JsonNode page =
            parent.root.call(
                "GET",
                "/api/v1/nodes?"
                    + query(
                        "status", status, "site", site, "label", label, "search", search, "limit",
                        limit),
                null);
        PrintWriter out = spec.commandLine().getOut();
        if (parent.root.json) {
          out.println(page);
          return 0;
        }
        java.time.Instant now = java.time.Instant.now();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("NODE", "STATUS", "SITE", "MODEL", "ARCH", "RAM", "LAST SEEN"));
        for (JsonNode n : page.get("items")) {
          JsonNode model = n.get("model");
          rows.add(
              List.of(
                  n.get("nodeId").asText(),
                  n.path("status").asText("unknown"),
                  n.path("site").asText(""),
                  model == null || model.isNull()
                      ? "-"
                      : model.get("name").asText() + " v" + model.get("version").asLong(),
                  n.path("arch").asText(""),
                  n.hasNonNull("ramBytes")
                      ? Humanized.binaryBytes(n.get("ramBytes").asLong())
                      : "-",
                  Humanized.ago(now, n.path("lastSeenAt").asText(null))));
        }
        Humanized.table(out, rows);
        more(spec, page);
        return 0;
      }
    }

    @Command(name = "get", description = "Show one node (--json: the controller's record).")
    static final class Get implements Callable<Integer> {
      @CommandLine.ParentCommand Nodes parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Parameters(paramLabel = "ID")
      String id;

      @Override
      public Integer call() throws Exception {
        JsonNode n = parent.root.record("nodes", id);
        PrintWriter out = spec.commandLine().getOut();
        if (parent.root.json) {
          out.println(n);
          return 0;
        }
        java.time.Instant now = java.time.Instant.now();
        JsonNode model = n.get("model");
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("node", n.get("nodeId").asText()));
        rows.add(
            List.of(
                "status",
                n.path("status").asText("unknown")
                    + (n.hasNonNull("statusReason")
                        ? " (" + n.get("statusReason").asText() + ")"
                        : "")
                    + (n.hasNonNull("statusSince")
                        ? ", since " + Humanized.ago(now, n.get("statusSince").asText())
                        : "")));
        rows.add(List.of("site", n.path("site").asText("")));
        rows.add(
            List.of(
                "model",
                model == null || model.isNull()
                    ? "-"
                    : model.get("name").asText() + " v" + model.get("version").asLong()));
        rows.add(List.of("agent", n.path("agentVersion").asText("")));
        rows.add(
            List.of("arch", n.path("arch").asText("") + " " + n.path("deviceClass").asText("")));
        rows.add(
            List.of(
                "ram",
                n.hasNonNull("ramBytes")
                    ? Humanized.binaryBytes(n.get("ramBytes").asLong())
                    : "-"));
        rows.add(List.of("labels", Humanized.pairs(n.path("labels"))));
        rows.add(List.of("booted", Humanized.ago(now, n.path("bootedAt").asText(null))));
        rows.add(List.of("last seen", Humanized.ago(now, n.path("lastSeenAt").asText(null))));
        Humanized.table(out, rows);
        return 0;
      }
    }
  }

  @Command(
      name = "bundle",
      aliases = "bundles",
      description = "List, show and upload catalog bundles.",
      subcommands = {Bundles.ListAll.class, Bundles.Get.class, Upload.class})
  static final class Bundles {
    @CommandLine.ParentCommand FleetCtl root;

    @Command(name = "list", description = "List bundles by id (--json: the controller's page).")
    static final class ListAll implements Callable<Integer> {
      @CommandLine.ParentCommand Bundles parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Option(names = "--limit", defaultValue = "100", description = "At most this many (1-500).")
      int limit;

      @Override
      public Integer call() throws Exception {
        JsonNode page = parent.root.call("GET", "/api/v1/bundles?" + query("limit", limit), null);
        PrintWriter out = spec.commandLine().getOut();
        if (parent.root.json) {
          out.println(page);
          return 0;
        }
        java.time.Instant now = java.time.Instant.now();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("BUNDLE", "MODEL", "SIZE", "FILES", "UPLOADED BY", "UPLOADED"));
        for (JsonNode b : page.get("items")) {
          rows.add(
              List.of(
                  b.get("bundleId").asText(),
                  b.at("/model/name").asText() + " v" + b.at("/model/version").asLong(),
                  Humanized.bytes(b.get("totalBytes").asLong()),
                  Integer.toString(b.get("files").size()),
                  b.path("uploadedBy").asText(""),
                  Humanized.ago(now, b.path("uploadedAt").asText(null))));
        }
        Humanized.table(out, rows);
        more(spec, page);
        return 0;
      }
    }

    @Command(name = "get", description = "Show one bundle (--json: its catalog entry).")
    static final class Get implements Callable<Integer> {
      @CommandLine.ParentCommand Bundles parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Parameters(paramLabel = "ID")
      String id;

      @Override
      public Integer call() throws Exception {
        JsonNode b = parent.root.record("bundles", id);
        PrintWriter out = spec.commandLine().getOut();
        if (parent.root.json) {
          out.println(b);
          return 0;
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("bundle", b.get("bundleId").asText()));
        rows.add(
            List.of(
                "model",
                b.at("/model/name").asText()
                    + " v"
                    + b.at("/model/version").asLong()
                    + " "
                    + b.at("/model/digest").asText()));
        rows.add(List.of("size", Humanized.bytes(b.get("totalBytes").asLong())));
        rows.add(List.of("signers", Humanized.values(b.path("signerKeyIds"))));
        rows.add(
            List.of(
                "uploaded",
                b.path("uploadedBy").asText("")
                    + ", "
                    + Humanized.ago(java.time.Instant.now(), b.path("uploadedAt").asText(null))));
        for (JsonNode f : b.get("files")) {
          rows.add(
              List.of(
                  "file",
                  f.get("name").asText() + "  " + Humanized.bytes(f.get("sizeBytes").asLong())));
        }
        Humanized.table(out, rows);
        return 0;
      }
    }
  }

  @Command(
      name = "rollout",
      description = "Create and drive rollouts.",
      subcommands = {
        Rollout.Create.class,
        Rollout.ListAll.class,
        Rollout.Status.class,
        Rollout.Act.Pause.class,
        Rollout.Act.Resume.class,
        Rollout.Act.Approve.class,
        Rollout.Act.Abort.class,
        Rollout.Act.Rollback.class
      })
  static final class Rollout {
    @CommandLine.ParentCommand FleetCtl root;

    @Command(
        name = "create",
        description = {
          "Create a rollout; prints its id (--json: its state), and on stderr how to follow it.",
          "Either --plan FILE (the plan format: docs/rollout-plan.example.json) or --bundle,"
              + " --name and --wave options; --bundle, --name and --id override the plan's."
        })
    static final class Create implements Callable<Integer> {
      @CommandLine.ParentCommand Rollout parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Option(
          names = "--plan",
          paramLabel = "FILE",
          description =
              "A rollout plan as JSON: selector, waves, thresholds, gate, windows (see"
                  + " docs/fleet-controller.md).")
      Path planFile;

      @Option(names = "--bundle", description = "Catalog bundle id.")
      String bundle;

      @Option(names = "--name", description = "A name for people.")
      String name;

      @Option(names = "--id", description = "Rollout id (default: generated).")
      String id;

      @Option(
          names = "--wave",
          description =
              "A wave: N (canary count), P% (cumulative share), with a trailing '!' when an"
                  + " operator must approve it. Repeat in order; the last must be 100%%.")
      List<String> waves = List.of();

      @Option(names = "--label", description = "Selector label key=value (repeatable).")
      List<String> labels = List.of();

      @Option(names = "--arch", description = "Selector architecture (repeatable).")
      List<String> arch = List.of();

      @Option(names = "--device-class", description = "Selector device class (repeatable).")
      List<String> deviceClasses = List.of();

      @Option(names = "--site", description = "Selector site (repeatable).")
      List<String> sites = List.of();

      @Option(names = "--success", defaultValue = "95", description = "Success %% to advance.")
      double success;

      @Option(
          names = "--errors",
          defaultValue = "5",
          description = "Error %% that triggers --on-errors.")
      double errors;

      @Option(
          names = "--on-errors",
          defaultValue = "PAUSE",
          description = "PAUSE, ABORT or ROLLBACK.")
      String onErrors;

      @Option(names = "--result-timeout", defaultValue = "PT1H", description = "ISO-8601 duration.")
      String resultTimeout;

      @Option(
          names = "--soak",
          description = "Health-gate soak (ISO-8601, e.g. PT30M); no gate without it.")
      String soak;

      @Override
      public Integer call() throws Exception {
        ObjectNode plan = planFile == null ? fromOptions() : fromFile(planFile);
        if (id != null) {
          plan.put("id", id);
        }
        if (name != null) {
          plan.put("name", name);
        }
        if (bundle != null) {
          plan.put("bundleId", bundle);
        }
        for (String field : List.of("name", "bundleId")) {
          if (!plan.hasNonNull(field)) {
            throw new UsageError(
                "The rollout has no "
                    + field
                    + ": give --"
                    + (field.equals("bundleId") ? "bundle" : "name")
                    + (planFile == null ? "" : " or put \"" + field + "\" in " + planFile)
                    + ".");
          }
        }
        JsonNode s = parent.root.call("POST", "/api/v1/rollouts", plan);
        String created = s.get("id").asText();
        spec.commandLine().getOut().println(parent.root.json ? s.toString() : created);
        // On stderr, so that $(fleetctl rollout create …) is still the id alone.
        spec.commandLine()
            .getErr()
            .println(
                "Rollout " + created + " created; follow it with: fleetctl rollout get " + created);
        return 0;
      }

      /** Reads a plan file; a file that is not a JSON object is a usage error naming it. */
      static ObjectNode fromFile(Path file) throws UsageError {
        if (!Files.isRegularFile(file)) {
          throw new UsageError("--plan '" + file + "' is not a readable file.");
        }
        JsonNode tree;
        try {
          tree = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          var at = e.getLocation();
          throw new UsageError(
              "--plan '"
                  + file
                  + "' is not valid JSON"
                  + (at == null
                      ? ""
                      : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                  + ": "
                  + e.getOriginalMessage()
                  + ".");
        } catch (IOException e) {
          throw new UsageError("--plan '" + file + "' cannot be read: " + describe(e) + ".");
        }
        if (!(tree instanceof ObjectNode o)) {
          throw new UsageError(
              "--plan '" + file + "' must hold a JSON object like docs/rollout-plan.example.json.");
        }
        return o;
      }

      ObjectNode fromOptions() throws UsageError {
        if (waves.isEmpty()) {
          throw new UsageError("A rollout needs waves: give --plan FILE or one --wave per wave.");
        }
        ObjectNode plan = JSON.createObjectNode();
        ObjectNode selector = plan.putObject("selector");
        ObjectNode l = selector.putObject("labels");
        for (String kv : labels) {
          int eq = kv.indexOf('=');
          if (eq < 1) {
            throw new UsageError("--label must be key=value, got '" + kv + "'.");
          }
          l.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        arch.forEach(selector.putArray("arch")::add);
        deviceClasses.forEach(selector.putArray("deviceClasses")::add);
        sites.forEach(selector.putArray("sites")::add);
        ArrayNode w = plan.putArray("waves");
        for (String spec : waves) {
          boolean approval = spec.endsWith("!");
          String v = approval ? spec.substring(0, spec.length() - 1) : spec;
          ObjectNode wave = w.addObject();
          try {
            if (v.endsWith("%")) {
              wave.put("percent", Double.parseDouble(v.substring(0, v.length() - 1)));
            } else {
              wave.put("count", Integer.parseInt(v));
            }
          } catch (NumberFormatException e) {
            throw new UsageError(
                "--wave must be a node count (3) or a cumulative share (25%), with a trailing '!'"
                    + " for an approval, got '"
                    + spec
                    + "'.");
          }
          wave.put("approval", approval);
        }
        plan.putObject("thresholds")
            .put("successPercent", success)
            .put("errorPercent", errors)
            .put("onErrors", onErrors.toUpperCase(Locale.ROOT))
            .put("resultTimeout", resultTimeout);
        if (soak != null) {
          plan.putObject("gate")
              .put("soak", soak)
              .put("baseline", "PT1H")
              .put("minTokensPerSecondRatio", 0.9)
              .put("maxP95LatencyRatio", 1.25)
              .put("maxErrorRateIncrease", 0.01)
              .put("minActivationScore", 0.0)
              .put("minMeasuredPercent", 80)
              .put("dataTimeout", "PT1H");
        }
        return plan;
      }
    }

    @Command(name = "list", description = "List rollouts by id (--json: the controller's page).")
    static final class ListAll implements Callable<Integer> {
      @CommandLine.ParentCommand Rollout parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Option(
          names = "--status",
          description = "running, paused, completed, aborted or rolled_back.")
      String status;

      @Option(names = "--limit", defaultValue = "50", description = "At most this many (1-500).")
      int limit;

      @Override
      public Integer call() throws Exception {
        JsonNode page =
            parent.root.call(
                "GET", "/api/v1/rollouts?" + query("status", status, "limit", limit), null);
        PrintWriter out = spec.commandLine().getOut();
        if (parent.root.json) {
          out.println(page);
          return 0;
        }
        java.time.Instant now = java.time.Instant.now();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("ID", "STATUS", "MODEL", "WAVE", "NODES", "WAITING", "UPDATED"));
        for (JsonNode r : page.get("items")) {
          rows.add(
              List.of(
                  r.get("id").asText(),
                  r.get("status").asText().toLowerCase(Locale.ROOT),
                  r.at("/plan/model/name").asText() + " v" + r.at("/plan/model/version").asLong(),
                  Math.min(r.get("currentWave").asInt() + 1, r.get("waves").size())
                      + "/"
                      + r.get("waves").size(),
                  Integer.toString(r.get("targets").size()),
                  r.get("waiting").asText().isEmpty() ? "-" : r.get("waiting").asText(),
                  Humanized.ago(now, r.get("updatedAt").asText())));
        }
        Humanized.table(out, rows);
        more(spec, page);
        return 0;
      }
    }

    @Command(
        name = "status",
        aliases = "get",
        description = "Show a rollout's waves and what it waits for (--json: its state).")
    static final class Status implements Callable<Integer> {
      @CommandLine.ParentCommand Rollout parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Parameters(paramLabel = "ID")
      String id;

      @Override
      public Integer call() throws Exception {
        JsonNode s = parent.root.call("GET", "/api/v1/rollouts/" + id, null);
        show(parent.root, spec.commandLine().getOut(), s);
        return 0;
      }
    }

    static void show(FleetCtl root, PrintWriter out, JsonNode s) {
      if (root.json) {
        out.println(s);
      } else {
        print(out, s);
      }
    }

    static void print(PrintWriter out, JsonNode s) {
      out.printf(
          Locale.ROOT,
          "%s  %s  %s v%d  %s%n",
          s.get("id").asText(),
          s.get("status").asText().toLowerCase(Locale.ROOT),
          s.at("/plan/model/name").asText(),
          s.at("/plan/model/version").asLong(),
          s.get("waiting").asText().isEmpty() ? "" : "waiting for " + s.get("waiting").asText());
      for (JsonNode w : s.get("waves")) {
        int index = w.get("index").asInt();
        long installed = 0;
        long failed = 0;
        for (JsonNode t : s.get("targets")) {
          if (t.get("wave").asInt() == index) {
            String phase = t.get("phase").asText();
            installed += phase.equals("INSTALLED") ? 1 : 0;
            failed += phase.equals("FAILED") ? 1 : 0;
          }
        }
        JsonNode gate = w.get("gate");
        out.printf(
            Locale.ROOT,
            "  wave %d  %-8s  %d nodes, %d installed, %d failed%s%n",
            index + 1,
            w.get("state").asText().toLowerCase(Locale.ROOT),
            w.get("size").asInt(),
            installed,
            failed,
            gate == null || gate.isNull()
                ? ""
                : "  gate "
                    + (gate.get("passed").asBoolean() ? "passed" : "FAILED")
                    + ": "
                    + gate.get("reason").asText());
      }
    }

    abstract static class Act implements Callable<Integer> {
      @CommandLine.ParentCommand Rollout parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Parameters(paramLabel = "ID")
      String id;

      @Option(names = "--reason", required = true, description = "Why; kept in the audit trail.")
      String reason;

      abstract String verb();

      @Override
      public Integer call() throws Exception {
        JsonNode s =
            parent.root.call(
                "POST",
                "/api/v1/rollouts/" + id + "/" + verb(),
                JSON.createObjectNode().put("reason", reason));
        show(parent.root, spec.commandLine().getOut(), s);
        return 0;
      }

      @Command(name = "pause", description = "Pause a running rollout.")
      static final class Pause extends Act {
        String verb() {
          return "pause";
        }
      }

      @Command(name = "resume", description = "Resume a paused rollout.")
      static final class Resume extends Act {
        String verb() {
          return "resume";
        }
      }

      @Command(name = "approve", description = "Approve the wave waiting for approval.")
      static final class Approve extends Act {
        String verb() {
          return "approve";
        }
      }

      @Command(name = "abort", description = "Abort a rollout.")
      static final class Abort extends Act {
        String verb() {
          return "abort";
        }
      }

      @Command(name = "rollback", description = "Roll every updated node back.")
      static final class Rollback extends Act {
        String verb() {
          return "rollback";
        }
      }
    }
  }

  @Command(
      name = "token",
      description = "Manage API tokens (admin).",
      subcommands = Token.Create.class)
  static final class Token {
    @CommandLine.ParentCommand FleetCtl root;

    @Command(name = "create", description = "Create a token; prints its secret once.")
    static final class Create implements Callable<Integer> {
      @CommandLine.ParentCommand Token parent;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Parameters(index = "0", paramLabel = "NAME")
      String name;

      @Parameters(
          index = "1",
          paramLabel = "ROLE",
          description = "viewer, operator, release-manager or admin")
      String role;

      @Override
      public Integer call() throws Exception {
        JsonNode t =
            parent.root.call(
                "POST",
                "/api/v1/tokens",
                JSON.createObjectNode().put("name", name).put("role", role));
        spec.commandLine().getOut().println(t.get("token").asText());
        return 0;
      }
    }
  }

  /**
   * {@code fleetctl api}: any REST call with the CLI's URL, token and error handling, for what has
   * no command of its own (a node list, a journal, a question, a rollout plan with its own gate),
   * so that an operator needs no HTTP client besides fleetctl.
   */
  @Command(
      name = "api",
      description =
          "Call the REST API (e.g. GET /api/v1/nodes); prints the JSON answer on one line.")
  static final class Api implements Callable<Integer> {
    @CommandLine.ParentCommand FleetCtl root;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "METHOD", description = "GET, POST, PUT or DELETE.")
    String method;

    @Parameters(index = "1", paramLabel = "PATH", description = "e.g. /api/v1/nodes?label=line=1")
    String path;

    @Option(
        names = "--data",
        paramLabel = "JSON|@FILE",
        description = "Request body: JSON text, or @FILE to read it from a file.")
    String data;

    @Override
    public Integer call() throws Exception {
      String m = method.toUpperCase(Locale.ROOT);
      if (!List.of("GET", "POST", "PUT", "DELETE").contains(m)) {
        throw new UsageError("METHOD must be GET, POST, PUT or DELETE, got '" + method + "'.");
      }
      if (!path.startsWith("/")) {
        throw new UsageError("PATH must start with '/', like /api/v1/nodes, got '" + path + "'.");
      }
      JsonNode body = null;
      if (data != null) {
        String text;
        if (data.startsWith("@")) {
          Path file = Path.of(data.substring(1));
          if (!Files.isRegularFile(file)) {
            throw new UsageError("--data " + data + ": no such file.");
          }
          text = Files.readString(file);
        } else {
          text = data;
        }
        try {
          body = JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new UsageError("--data is not JSON (" + e.getOriginalMessage() + ").");
        }
      }
      JsonNode answer = root.call(m, path, body);
      spec.commandLine().getOut().println(answer.isNull() ? "" : answer.toString());
      return 0;
    }
  }
}
