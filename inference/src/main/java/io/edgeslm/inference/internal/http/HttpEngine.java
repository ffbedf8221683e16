package io.edgeslm.inference.internal.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.EngineHealth;
import io.edgeslm.inference.EngineInfo;
import io.edgeslm.inference.EngineStats;
import io.edgeslm.inference.EngineUnavailableException;
import io.edgeslm.inference.FinishReason;
import io.edgeslm.inference.Generation;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.GenerationTimings;
import io.edgeslm.inference.InferenceEngine;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.RequestRejectedException;
import io.edgeslm.inference.TokenListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine SPI over an OpenAI-compatible server (llama-server, Ollama, vLLM): {@code POST
 * /v1/chat/completions} for chat requests and {@code POST /v1/completions} for raw prompts, both
 * with {@code "stream": true}, read as server-sent events ({@code data: {json}} lines, ended by
 * {@code data: [DONE]}; WHATWG HTML "Server-sent events" and the OpenAI streaming format).
 *
 * <p>Constraints: a JSON schema goes out as {@code response_format} of type {@code json_schema}
 * (OpenAI structured outputs, honoured by llama-server, vLLM and Ollama) and additionally as
 * llama-server's {@code json_schema} field; a GBNF grammar as llama-server's {@code grammar} field,
 * which other servers ignore (the Java-side validation still applies).
 *
 * <p>Hangs: the request's HTTP timeout bounds the wait for response headers; a watchdog closes a
 * stream that sends no event for {@code tokenTimeout}, failing the request with {@link
 * EngineUnavailableException}.
 */
public final class HttpEngine implements InferenceEngine {

  /**
   * How this engine talks to its server.
   *
   * @param backendName the name in {@link EngineInfo#backend()}
   * @param llamaServer the server is a llama-server this process started: requests carry {@code
   *     cache_prompt} and, when the request names a cache slot, {@code id_slot}
   * @param stripThinking cut {@code <think>...</think>} spans out of the streamed text
   * @param probeModels probe {@code GET /v1/models} at open and every 10 s for {@link #health()};
   *     false when a supervisor owns health
   * @param onStall called (on the watchdog thread) when a stream stalled and was cut, with the
   *     reason; a supervisor kills the hung server there
   */
  public record Options(
      String backendName,
      boolean llamaServer,
      boolean stripThinking,
      boolean probeModels,
      java.util.function.Consumer<String> onStall) {

    /** A server run by someone else: plain OpenAI requests, probed for health. */
    public static Options external() {
      return new Options("http", false, false, true, why -> {});
    }
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final int MAX_LINE_CHARS = 1 << 20;
  private static final int MAX_ERROR_BODY = 2048;

  private final EngineConfig.HttpBackend config;
  private final Options options;
  private final ModelSpec spec;
  private final Clock clock;

  /** The JDK's client, for every server {@link #loopback} does not serve; else null. */
  private final HttpClient client;

  /**
   * Our own HTTP/1.1 client when the server is plain http on loopback (the llama-server the agent
   * supervises, or a local Ollama): the JDK's client added about 5 ms to each first token there
   * (docs/benchmarks.md, "The HTTP engine's share"). Remote and https servers keep the JDK's
   * client, which brings TLS, proxies and HTTP/2 that a loopback peer does not need.
   */
  private final LoopbackHttpClient loopback;

  private final ScheduledExecutorService timer;
  private final AtomicLong ids = new AtomicLong();
  private final Set<Call> active = ConcurrentHashMap.newKeySet();
  private final AtomicLong started = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong tokens = new AtomicLong();
  private volatile EngineHealth health;
  private volatile boolean closed;

  private HttpEngine(
      EngineConfig.HttpBackend config,
      Options options,
      ModelSpec spec,
      Clock clock,
      boolean jdkClient) {
    this.config = config;
    this.options = options;
    this.spec = spec;
    this.clock = clock;
    if (!jdkClient && LoopbackHttpClient.applies(config.baseUri())) {
      // A pool of one idle connection per slot plus one for the probes and token counts; the
      // server closes a connection after a streamed answer, so reuse serves the short calls.
      this.loopback =
          new LoopbackHttpClient(
              config.baseUri(),
              config.connectTimeout(),
              spec.parallelSlots() + 1,
              LoopbackHttpClient.Limits.defaults());
      this.client = null;
    } else {
      this.loopback = null;
      this.client =
          HttpClient.newBuilder()
              .connectTimeout(config.connectTimeout())
              .version(HttpClient.Version.HTTP_1_1)
              .build();
    }
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edgeslm-http-engine-watchdog");
              t.setDaemon(true);
              return t;
            });
    this.health = new EngineHealth(EngineHealth.State.STARTING, "Probing server", clock.instant());
  }

  /**
   * Opens the engine after {@code GET /v1/models} answered 200.
   *
   * @throws EngineUnavailableException if the server cannot be reached or does not answer 200
   */
  public static HttpEngine open(EngineConfig.HttpBackend config, ModelSpec spec, Clock clock)
      throws InferenceException {
    return open(config, Options.external(), spec, clock);
  }

  /**
   * Opens the engine with {@code options}; probes {@code GET /v1/models} first when they say so,
   * else starts READY (the caller checked the server).
   */
  public static HttpEngine open(
      EngineConfig.HttpBackend config, Options options, ModelSpec spec, Clock clock)
      throws InferenceException {
    return open(config, options, spec, clock, false);
  }

  /**
   * Opens the engine on the JDK's {@code HttpClient} whatever the server: for the benchmark that
   * compares it with the loopback client.
   */
  static HttpEngine openWithJdkClient(
      EngineConfig.HttpBackend config, Options options, ModelSpec spec, Clock clock)
      throws InferenceException {
    return open(config, options, spec, clock, true);
  }

  /** Whether requests go through {@link LoopbackHttpClient}; for tests. */
  boolean usesLoopbackClient() {
    return loopback != null;
  }

  private static HttpEngine open(
      EngineConfig.HttpBackend config,
      Options options,
      ModelSpec spec,
      Clock clock,
      boolean jdkClient)
      throws InferenceException {
    HttpEngine e = new HttpEngine(config, options, spec, clock, jdkClient);
    if (options.probeModels()) {
      try {
        e.probe();
      } catch (InferenceException ex) {
        e.close();
        throw ex;
      }
      e.timer.scheduleWithFixedDelay(e::probeQuietly, 10, 10, TimeUnit.SECONDS);
    } else {
      e.setHealth(EngineHealth.State.READY, "Server at " + config.baseUri() + " serves");
    }
    e.timer.scheduleWithFixedDelay(e::watch, 200, 200, TimeUnit.MILLISECONDS);
    return e;
  }

  private void probe() throws InferenceException {
    try {
      Reply r = exchange("GET", "/v1/models", null, config.firstTokenTimeout());
      if (r.statusCode() != 200) {
        setHealth(EngineHealth.State.STARTING, "Server answered " + r.statusCode());
        throw new EngineUnavailableException(
            "The inference server at "
                + config.baseUri()
                + " answered "
                + r.statusCode()
                + " to GET /v1/models: "
                + bounded(r.body())
                + ". Wait until it has loaded its model, or check baseUri.");
      }
      setHealth(EngineHealth.State.READY, "Server at " + config.baseUri() + " answers");
    } catch (IOException e) {
      setHealth(EngineHealth.State.RESTARTING, "Unreachable: " + e.getMessage());
      throw new EngineUnavailableException(
          "Cannot reach the inference server at "
              + config.baseUri()
              + ": "
              + e
              + ". Start it or fix baseUri.",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineUnavailableException("Interrupted while probing the inference server");
    }
  }

  private void probeQuietly() {
    if (closed) {
      return;
    }
    try {
      probe();
    } catch (InferenceException ignored) {
      // health() now says why.
    }
  }

  private URI endpoint(String path) {
    String base = config.baseUri().toString();
    if (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return URI.create(base + path);
  }

  private HttpRequest.Builder authorized(HttpRequest.Builder b) {
    config.apiKey().ifPresent(k -> b.header("Authorization", "Bearer " + k));
    return b;
  }

  /** The headers of a request through {@link #loopback}. */
  private Map<String, String> headers(boolean json, boolean eventStream) {
    Map<String, String> h = new java.util.LinkedHashMap<>();
    if (json) {
      h.put("Content-Type", "application/json");
    }
    if (eventStream) {
      h.put("Accept", "text/event-stream");
    }
    config.apiKey().ifPresent(k -> h.put("Authorization", "Bearer " + k));
    return h;
  }

  /** A status and a whole body. */
  private record Reply(int statusCode, String body) {}

  /**
   * One short exchange (not streamed): GET without a body, else POST of JSON. All of them only read
   * the server's state, so the loopback client may send one again once on a fresh connection when a
   * kept-alive one turned out closed.
   */
  private Reply exchange(String method, String path, String json, Duration timeout)
      throws IOException, InterruptedException {
    if (loopback != null) {
      byte[] body = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
      LoopbackHttpClient.Request req =
          new LoopbackHttpClient.Request(
              method, target(path), headers(json != null, false), body, true, timeout);
      try (LoopbackHttpClient.Response r = loopback.send(req, socket -> {})) {
        return new Reply(r.statusCode(), r.bodyString());
      }
    }
    HttpRequest.Builder b = authorized(HttpRequest.newBuilder(endpoint(path))).timeout(timeout);
    if (json == null) {
      b.GET();
    } else {
      b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
    }
    HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), r.body());
  }

  /** The request target (path and query) of {@code path} under the base URI. */
  private String target(String path) {
    URI u = endpoint(path);
    return u.getRawQuery() == null ? u.getRawPath() : u.getRawPath() + "?" + u.getRawQuery();
  }

  /** The JSON body of a streaming request; package-private for tests. */
  ObjectNode body(GenerationRequest r) {
    ObjectNode b = MAPPER.createObjectNode();
    b.put("model", config.model());
    if (r.isChat()) {
      ArrayNode msgs = b.putArray("messages");
      for (ChatMessage m : r.messages()) {
        msgs.addObject().put("role", m.role().wireName()).put("content", m.content());
      }
    } else {
      b.put("prompt", r.prompt());
    }
    b.put("max_tokens", r.nPredict());
    b.put("temperature", r.temperature());
    if (r.seed() >= 0) {
      b.put("seed", r.seed());
    }
    if (!r.stopStrings().isEmpty()) {
      ArrayNode stop = b.putArray("stop");
      r.stopStrings().forEach(stop::add);
    }
    if (r.jsonSchema() != null) {
      JsonNode schema;
      try {
        schema = MAPPER.readTree(r.jsonSchema());
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException("jsonSchema is not JSON: " + e.getOriginalMessage());
      }
      ObjectNode rf = b.putObject("response_format");
      rf.put("type", "json_schema");
      ObjectNode js = rf.putObject("json_schema");
      js.put("name", "output");
      js.put("strict", true);
      js.set("schema", schema);
      b.set("json_schema", schema);
    }
    if (r.grammar() != null) {
      b.put("grammar", r.grammar());
    }
    if (options.llamaServer()) {
      // llama-server: keep the slot's KV cache and evaluate only the part of the prompt that
      // changed (tools/server/README.md, "cache_prompt", "id_slot").
      b.put("cache_prompt", true);
      if (r.cacheSlot() >= 0 && r.cacheSlot() < spec.parallelSlots()) {
        b.put("id_slot", r.cacheSlot());
      }
      // The probability of each generated token, for the node's confidence measure: the OpenAI
      // chat fields, which llama-server maps to n_probs; its own n_probs for raw prompts.
      if (r.isChat()) {
        b.put("logprobs", true);
        b.put("top_logprobs", 1);
      } else {
        b.put("n_probs", 1);
      }
    }
    b.put("stream", true);
    b.putObject("stream_options").put("include_usage", true);
    return b;
  }

  @Override
  public EngineInfo info() {
    return new EngineInfo(
        options.backendName(), config.model(), spec.contextSize(), spec.parallelSlots(), -1);
  }

  @Override
  public Generation generate(GenerationRequest request, TokenListener listener)
      throws InferenceException {
    if (closed) {
      throw new EngineUnavailableException("The HTTP engine is closed.");
    }
    if (options.llamaServer()
        && request.isChat()
        && (request.jsonSchema() != null || request.grammar() != null)) {
      // llama-server's chat endpoint folds the template's generation prompt into the constraint's
      // grammar, and that grammar fails to initialise when the prompt holds special tokens
      // ("Failed to initialize samplers", seen with v0.5.0). Rendering the template here and
      // sending the text as a raw prompt constrains only the answer, as the worker does.
      request = rendered(request);
    }
    ObjectNode body;
    try {
      body = body(request);
    } catch (IllegalArgumentException e) {
      throw new RequestRejectedException(e.getMessage(), e);
    }
    Call call =
        new Call(ids.incrementAndGet(), request, listener == null ? TokenListener.NONE : listener);
    String path = request.isChat() ? "/v1/chat/completions" : "/v1/completions";
    Runnable run;
    if (loopback != null) {
      // Not idempotent: a generation sent twice would be generated twice.
      LoopbackHttpClient.Request http =
          new LoopbackHttpClient.Request(
              "POST",
              target(path),
              headers(true, true),
              body.toString().getBytes(StandardCharsets.UTF_8),
              false,
              config.firstTokenTimeout());
      run = () -> call.run(() -> call.openLoopback(http));
    } else {
      HttpRequest http =
          authorized(HttpRequest.newBuilder(endpoint(path)))
              .timeout(config.firstTokenTimeout())
              .header("Content-Type", "application/json")
              .header("Accept", "text/event-stream")
              .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
              .build();
      run = () -> call.run(() -> call.openJdk(http));
    }
    active.add(call);
    started.incrementAndGet();
    Thread.ofVirtual().name("edgeslm-http-call-" + call.id).start(run);
    return call;
  }

  /** The chat request as a raw prompt rendered by the server's {@code /apply-template}. */
  private GenerationRequest rendered(GenerationRequest r) throws InferenceException {
    String text;
    try {
      text = postJson("/apply-template", messages(r)).path("prompt").asText(null);
    } catch (IOException e) {
      throw new EngineUnavailableException(
          "Cannot render the chat template at " + config.baseUri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineUnavailableException("Interrupted while rendering the chat template");
    }
    if (text == null) {
      throw new EngineUnavailableException(
          "The server's /apply-template answer has no 'prompt'; is it a llama-server?");
    }
    return new GenerationRequest(
        text,
        java.util.List.of(),
        r.nPredict(),
        r.temperature(),
        r.seed(),
        r.stopStrings(),
        r.grammar(),
        r.jsonSchema(),
        r.cacheSlot());
  }

  private static ObjectNode messages(GenerationRequest r) {
    ObjectNode b = MAPPER.createObjectNode();
    ArrayNode msgs = b.putArray("messages");
    for (ChatMessage m : r.messages()) {
      msgs.addObject().put("role", m.role().wireName()).put("content", m.content());
    }
    return b;
  }

  @Override
  public int countPromptTokens(GenerationRequest request) throws InferenceException {
    if (!config.tokenizeEndpoint()) {
      return estimate(request);
    }
    try {
      String text = request.prompt();
      if (request.isChat()) {
        text = postJson("/apply-template", messages(request)).path("prompt").asText(null);
        if (text == null) {
          return estimate(request);
        }
      }
      // add_special: the server puts the model's BOS token before every prompt it evaluates.
      ObjectNode b = MAPPER.createObjectNode().put("content", text).put("add_special", true);
      JsonNode tokensNode = postJson("/tokenize", b).path("tokens");
      if (!tokensNode.isArray()) {
        throw new EngineUnavailableException(
            "The server's /tokenize answer has no 'tokens' array. Set tokenizeEndpoint=false for"
                + " servers other than llama-server.");
      }
      return tokensNode.size();
    } catch (IOException e) {
      throw new EngineUnavailableException(
          "Cannot count tokens at " + config.baseUri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineUnavailableException("Interrupted while counting tokens");
    }
  }

  /**
   * Tokens a prompt can have beyond its UTF-8 bytes: the specials the server adds around it (BOS,
   * and EOS for the few models that want one), with room to spare.
   */
  static final int ADDED_TOKENS = 8;

  /** Chat templates measured, by role sequence; bounded, oldest dropped first. */
  private final Map<String, Integer> templateBytes =
      java.util.Collections.synchronizedMap(
          new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
              return size() > 32;
            }
          });

  private final AtomicLong countsSkipped = new AtomicLong();

  /**
   * Every token of llama.cpp's tokenizers stands for at least one byte of the text, apart from the
   * specials the server adds, so a prompt has at most its UTF-8 bytes plus {@link #ADDED_TOKENS}
   * tokens. For chat requests the rendered template adds its own bytes, measured once per role
   * sequence by rendering one-byte messages (a template that leaves out empty messages is measured
   * right). When that bound fits, the two round trips to {@code /apply-template} and {@code
   * /tokenize} are skipped; near the limit the prompt is counted exactly.
   */
  @Override
  public int countPromptTokensWithin(GenerationRequest request, int limit)
      throws InferenceException {
    if (config.tokenizeEndpoint()) {
      long bound = upperBound(request);
      if (bound <= limit) {
        countsSkipped.incrementAndGet();
        return (int) bound;
      }
    }
    return countPromptTokens(request);
  }

  /** Exact counts avoided by {@link #countPromptTokensWithin} since the engine opened. */
  public long countsSkipped() {
    return countsSkipped.get();
  }

  private long upperBound(GenerationRequest r) throws InferenceException {
    if (!r.isChat()) {
      return (long) r.prompt().getBytes(StandardCharsets.UTF_8).length + ADDED_TOKENS;
    }
    long content = 0;
    StringBuilder roles = new StringBuilder();
    for (ChatMessage m : r.messages()) {
      content += m.content().getBytes(StandardCharsets.UTF_8).length;
      roles.append(m.role().wireName()).append(',');
    }
    return templateBytes(r, roles.toString()) + content + ADDED_TOKENS;
  }

  /** Bytes the chat template adds for this role sequence (cached). */
  private long templateBytes(GenerationRequest r, String roles) throws InferenceException {
    Integer known = templateBytes.get(roles);
    if (known != null) {
      return known;
    }
    ObjectNode b = MAPPER.createObjectNode();
    ArrayNode msgs = b.putArray("messages");
    for (ChatMessage m : r.messages()) {
      msgs.addObject().put("role", m.role().wireName()).put("content", "x");
    }
    String text;
    try {
      text = postJson("/apply-template", b).path("prompt").asText(null);
    } catch (IOException e) {
      throw new EngineUnavailableException(
          "Cannot render the chat template at " + config.baseUri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineUnavailableException("Interrupted while rendering the chat template");
    }
    if (text == null) {
      // Not a llama-server: no measurement, so the bound is never taken.
      return Integer.MAX_VALUE;
    }
    int bytes = Math.max(0, text.getBytes(StandardCharsets.UTF_8).length - r.messages().size());
    templateBytes.put(roles, bytes);
    return bytes;
  }

  /** Upper estimate when the server has no tokenizer endpoint: UTF-8 bytes / 2 plus overhead. */
  static int estimate(GenerationRequest r) {
    long bytes;
    if (r.isChat()) {
      bytes =
          r.messages().stream()
              .mapToLong(m -> m.content().getBytes(StandardCharsets.UTF_8).length + 16)
              .sum();
    } else {
      bytes = r.prompt().getBytes(StandardCharsets.UTF_8).length;
    }
    return (int) Math.min(Integer.MAX_VALUE, bytes / 2 + 16);
  }

  private JsonNode postJson(String path, ObjectNode body)
      throws IOException, InterruptedException, InferenceException {
    Reply r = exchange("POST", path, body.toString(), config.tokenTimeout());
    if (r.statusCode() != 200) {
      throw new EngineUnavailableException(
          "POST " + path + " answered " + r.statusCode() + ": " + bounded(r.body()));
    }
    return MAPPER.readTree(r.body());
  }

  private void watch() {
    long now = System.nanoTime();
    for (Call c : active) {
      if (c.abortReason != null) {
        continue;
      }
      String why = null;
      if (c.firstPieceNanos() == 0) {
        // Before the first token the server evaluates the prompt: the longer bound applies.
        if (now - c.startNanos > config.firstTokenTimeout().toNanos()) {
          why = "request " + c.id + " had no first token after " + config.firstTokenTimeout();
        }
      } else if (now - c.lastEventNanos > config.tokenTimeout().toNanos()) {
        why = "request " + c.id + " had no new token for " + config.tokenTimeout();
      }
      if (why != null) {
        c.abort(why);
        try {
          options.onStall().accept(why);
        } catch (RuntimeException e) {
          System.getLogger(HttpEngine.class.getName())
              .log(System.Logger.Level.WARNING, "Stall handler threw", e);
        }
      }
    }
  }

  /**
   * Fails every running request with {@code e} and cuts its stream: the supervisor's way of saying
   * why a server went away. Requests already finished are not touched.
   */
  public void failAll(EngineUnavailableException e) {
    for (Call c : active) {
      c.fail(e);
      c.closeStream();
    }
  }

  @Override
  public EngineHealth health() {
    return health;
  }

  @Override
  public EngineStats stats() {
    return new EngineStats(-1, 0, started.get(), failed.get(), tokens.get(), active.size());
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Call c : active) {
      c.fail(new EngineUnavailableException("The HTTP engine was closed."));
      c.closeStream();
    }
    timer.shutdownNow();
    if (client != null) {
      client.shutdownNow();
    }
    if (loopback != null) {
      loopback.close();
    }
    setHealth(EngineHealth.State.CLOSED, "Closed");
  }

  private void setHealth(EngineHealth.State s, String detail) {
    if (!closed) {
      health = new EngineHealth(s, detail, clock.instant());
    }
  }

  private static String bounded(String s) {
    if (s == null) {
      return "";
    }
    String one = s.replaceAll("\\s+", " ").strip();
    return one.length() <= MAX_ERROR_BODY ? one : one.substring(0, MAX_ERROR_BODY) + "...";
  }

  /** One streaming HTTP call. */
  private final class Call implements Generation {
    final long id;
    final GenerationRequest request;
    final TokenListener listener;
    final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    final StringBuilder text = new StringBuilder();
    final ThinkFilter thinkFilter = options.stripThinking() ? new ThinkFilter() : null;
    final long startNanos = System.nanoTime();
    volatile long lastEventNanos;
    volatile InputStream stream;

    /** Closes the loopback exchange's socket, set before the request is written. */
    volatile java.io.Closeable socket;

    volatile boolean cancelled;
    volatile String abortReason;
    int count;
    long firstNanos;
    long lastNanos;

    Call(long id, GenerationRequest request, TokenListener listener) {
      this.id = id;
      this.request = request;
      this.listener = listener;
    }

    Opened openJdk(HttpRequest http) throws IOException, InterruptedException {
      HttpResponse<InputStream> r = client.send(http, HttpResponse.BodyHandlers.ofInputStream());
      BufferedReader lines =
          new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
      return new Opened(r.statusCode(), r.body(), lines::readLine);
    }

    Opened openLoopback(LoopbackHttpClient.Request http) throws IOException {
      LoopbackHttpClient.Response r = loopback.send(http, s -> socket = s);
      // From here the response's body stream closes the socket (or hands it back when read).
      socket = null;
      return new Opened(r.statusCode(), r.body(), () -> r.readLine(MAX_LINE_CHARS));
    }

    void run(Opener opener) {
      try {
        Opened r = opener.open();
        stream = r.body();
        if (cancelled || future.isDone()) {
          closeStream();
          return;
        }
        if (r.statusCode() != 200) {
          String body;
          try (InputStream in = r.body()) {
            body = new String(in.readNBytes(MAX_ERROR_BODY), StandardCharsets.UTF_8);
          }
          InferenceException e =
              r.statusCode() >= 400 && r.statusCode() < 500
                  ? new RequestRejectedException(
                      "The inference server refused the request with "
                          + r.statusCode()
                          + ": "
                          + bounded(body))
                  : new EngineUnavailableException(
                      "The inference server failed with " + r.statusCode() + ": " + bounded(body));
          fail(e);
          return;
        }
        lastEventNanos = System.nanoTime();
        read(r);
      } catch (IOException e) {
        if (cancelled) {
          finishCancelled();
        } else {
          if (e instanceof java.net.http.HttpTimeoutException && abortReason == null) {
            abortReason =
                "request " + id + " had no first token after " + config.firstTokenTimeout();
            options.onStall().accept(abortReason);
          }
          String why = abortReason != null ? abortReason : e.toString();
          fail(
              new EngineUnavailableException(
                  "The inference server at "
                      + config.baseUri()
                      + " stopped answering request "
                      + id
                      + ": "
                      + why
                      + ". Retry when it is healthy again."));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail(new EngineUnavailableException("Interrupted"));
      } finally {
        active.remove(this);
      }
    }

    private void read(Opened body) throws IOException {
      FinishReason reason = FinishReason.STOP;
      int promptTokens = -1;
      int completionTokens = -1;
      double probabilitySum = 0;
      int probabilityCount = 0;
      try (InputStream ignored = body.body()) {
        String line;
        StringBuilder data = new StringBuilder();
        while ((line = body.lines().next()) != null) {
          lastEventNanos = System.nanoTime();
          if (line.length() > MAX_LINE_CHARS) {
            throw new IOException("server-sent event line longer than " + MAX_LINE_CHARS);
          }
          if (line.isEmpty()) {
            // Blank line: dispatch the event (SSE spec); data lines were joined with \n.
            if (data.isEmpty()) {
              continue;
            }
            String payload = data.toString();
            data.setLength(0);
            if (payload.equals("[DONE]")) {
              break;
            }
            StreamChunk chunk = StreamChunk.parse(payload, request.isChat());
            if (chunk.error) {
              throw new IOException("server reported an error: " + bounded(payload));
            }
            if (chunk.promptTokens >= 0) {
              promptTokens = chunk.promptTokens;
            }
            if (chunk.completionTokens >= 0) {
              completionTokens = chunk.completionTokens;
            }
            if (!chunk.hasChoice) {
              continue;
            }
            String piece = chunk.piece;
            if (thinkFilter != null) {
              piece = thinkFilter.accept(piece);
            }
            if (!piece.isEmpty()) {
              onPiece(piece);
            }
            probabilitySum += chunk.probabilitySum;
            probabilityCount += chunk.probabilityCount;
            if (chunk.finishReason.equals("length")) {
              reason = FinishReason.LENGTH;
            }
            if (cancelled) {
              break;
            }
          } else if (line.startsWith("data:")) {
            String v = line.substring(5);
            if (v.startsWith(" ")) {
              v = v.substring(1);
            }
            if (!data.isEmpty()) {
              data.append('\n');
            }
            data.append(v);
            if (data.length() > MAX_LINE_CHARS) {
              throw new IOException("server-sent event larger than " + MAX_LINE_CHARS);
            }
          }
          // Other fields (event:, id:, retry:) and comments (":") carry nothing we need.
        }
      }
      if (thinkFilter != null) {
        String rest = thinkFilter.finish();
        if (!rest.isEmpty()) {
          onPiece(rest);
        }
      }
      if (cancelled) {
        finishCancelled();
        return;
      }
      int generated = completionTokens >= 0 ? completionTokens : count;
      future.complete(
          new GenerationResult(
              text.toString(),
              promptTokens,
              generated,
              reason,
              timings(),
              probabilityCount == 0
                  ? java.util.OptionalDouble.empty()
                  : java.util.OptionalDouble.of(
                      Math.min(1.0, Math.max(0.0, probabilitySum / probabilityCount)))));
    }

    private void onPiece(String piece) {
      long now = System.nanoTime();
      synchronized (this) {
        if (count == 0) {
          firstNanos = now;
        }
        lastNanos = now;
        count++;
        text.append(piece);
      }
      tokens.incrementAndGet();
      if (!future.isDone()) {
        try {
          listener.onToken(piece);
        } catch (RuntimeException e) {
          System.getLogger(HttpEngine.class.getName())
              .log(System.Logger.Level.WARNING, "Token listener of request " + id + " threw", e);
        }
      }
    }

    synchronized long firstPieceNanos() {
      return count == 0 ? 0 : firstNanos;
    }

    synchronized GenerationTimings timings() {
      Duration ttft = count == 0 ? Duration.ZERO : Duration.ofNanos(firstNanos - startNanos);
      Duration gen = count < 2 ? Duration.ZERO : Duration.ofNanos(lastNanos - firstNanos);
      double tps = count < 2 || gen.isZero() ? 0 : (count - 1) / (gen.toNanos() / 1e9);
      return new GenerationTimings(Duration.ZERO, ttft, gen, tps);
    }

    private void finishCancelled() {
      String t;
      int n;
      synchronized (this) {
        t = text.toString();
        n = count;
      }
      future.complete(new GenerationResult(t, -1, n, FinishReason.CANCELLED, timings()));
    }

    void fail(InferenceException e) {
      if (future.completeExceptionally(e)) {
        failed.incrementAndGet();
      }
    }

    void abort(String why) {
      abortReason = why;
      closeStream();
    }

    void closeStream() {
      java.io.Closeable k = socket;
      if (k != null) {
        try {
          k.close();
        } catch (IOException ignored) {
          // Closing is how we stop it; nothing else to do.
        }
      }
      InputStream s = stream;
      if (s != null) {
        try {
          s.close();
        } catch (IOException ignored) {
          // Closing is how we stop it; nothing else to do.
        }
      }
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public void cancel() {
      cancelled = true;
      closeStream();
      if (stream == null) {
        finishCancelled();
      }
    }

    @Override
    public CompletableFuture<GenerationResult> result() {
      return future;
    }
  }

  /** The source of a stream's lines, null at its end. */
  @FunctionalInterface
  private interface Lines {
    String next() throws IOException;
  }

  /** A response whose head arrived: its status, its body and the body's lines. */
  private record Opened(int statusCode, InputStream body, Lines lines) {}

  /** Sends a call's request through one of the two clients. */
  @FunctionalInterface
  private interface Opener {
    Opened open() throws IOException, InterruptedException;
  }

  /** For tests: the active call count. */
  int activeCalls() {
    return active.size();
  }
}
