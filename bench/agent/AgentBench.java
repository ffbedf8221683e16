import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.ToolProvider;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * Node agent footprint and overhead, each against a baseline measured in the same run:
 *
 * <ol>
 *   <li>idle RSS of the agent without a model (external broker, and embedded broker) against an
 *       idle JVM with the same flags;
 *   <li>start-to-ready (launch until {@code /q/health/ready} answers 200) of the JVM agent and of
 *       the agent started from a JDK AOT cache, against starting a trivial JVM;
 *   <li>MQTT question to first streamed token at the operator's client, against the engine's own
 *       time to first token on the same model (the agent's {@code engine_ttft_p50} gauge).
 * </ol>
 *
 * Usage (see bench/agent/run.sh): {@code java -cp <agent libs> bench/agent/AgentBench.java
 * <quarkus-app dir> <model.gguf> <mqtt host> <mqtt port> [all|latency-only]}. With the
 * environment variable {@code BENCH_QUICK=1} (bench/run --quick) every measure is repeated fewer
 * times: a smoke check of the benchmark, not a measurement.
 */
public class AgentBench {

  static Path app;
  static Path work;
  static String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  static final boolean QUICK = "1".equals(System.getenv("BENCH_QUICK"));
  static final int STARTS = QUICK ? 2 : 5;
  static final long IDLE_SETTLE_MS = QUICK ? 3_000 : 10_000;
  static final int QUESTIONS = QUICK ? 10 : 40;
  static final int WARM_UPS = QUICK ? 2 : 5;
  /** JVM options added to every agent the bench starts (BENCH_AGENT_OPTS, split at spaces). */
  static final List<String> EXTRA_FLAGS =
      System.getenv().getOrDefault("BENCH_AGENT_OPTS", "").isBlank()
          ? List.of()
          : List.of(System.getenv("BENCH_AGENT_OPTS").strip().split("\\s+"));

  /**
   * The operator's MQTT client for the question-to-first-token measure: {@code raw} (default), a
   * minimal MQTT 5 client on a blocking socket in this file, or {@code paho} (Eclipse Paho), set
   * with the environment variable {@code BENCH_CLIENT}.
   */
  static final String CLIENT = System.getenv().getOrDefault("BENCH_CLIENT", "raw");
  /** The JVM options node-agent/src/main/deploy/edgeslm-agent-start gives the agent (JDK 25). */
  static final List<String> FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:MaxRAMPercentage=25",
          "-Xms16m",
          "-XX:NewRatio=6",
          "-XX:SurvivorRatio=3",
          "-XX:MetaspaceSize=40m",
          "-XX:CompileThresholdScaling=20",
          "--enable-native-access=ALL-UNNAMED",
          "-XX:TrimNativeHeapInterval=5000");

  public static void main(String[] args) throws Exception {
    app = Path.of(args[0]).toAbsolutePath();
    Path model = Path.of(args[1]).toAbsolutePath();
    String host = args[2];
    int port = Integer.parseInt(args[3]);
    work = Files.createTempDirectory("agent-bench");
    Path baseline = compileBaseline();
    if (args.length > 4 && args[4].equals("qa-cache")) {
      System.out.println("## Q&A with 20 live sensors on llama-server (model " + model.getFileName() + ")");
      qaCache(host, port, model);
      return;
    }
    if (args.length > 4 && args[4].equals("latency-only")) {
      System.out.println("## Question to first token (model " + model.getFileName() + ")");
      latency(host, port, model);
      return;
    }

    System.out.println("## Idle RSS (no model), " + IDLE_SETTLE_MS / 1000 + " s after ready");
    long idleJvm = idleRssOf(baseJvm(baseline, "Idle"), null);
    long external = idleRssOf(agent(externalEnv(host, port, "bench-idle"), List.of()), "ready");
    long embedded = idleRssOf(agent(embeddedEnv(), List.of()), "ready");
    System.out.printf(
        Locale.ROOT,
        "idle JVM (baseline) %.1f MiB | agent, external broker %.1f MiB (%.2fx) | agent, embedded"
            + " broker %.1f MiB (%.2fx)%n",
        mib(idleJvm), mib(external), (double) external / idleJvm, mib(embedded),
        (double) embedded / idleJvm);

    System.out.println("## Start to ready (median of " + STARTS + ")");
    List<Long> trivial = new ArrayList<>();
    for (int i = 0; i < STARTS; i++) {
      long t0 = System.nanoTime();
      Process p = baseJvm(baseline, "Hello");
      p.waitFor();
      trivial.add(System.nanoTime() - t0);
    }
    List<Long> jvm = new ArrayList<>();
    for (int i = 0; i < STARTS; i++) {
      jvm.add(startToReady(externalEnv(host, port, "bench-start"), List.of()));
    }
    Path aot = work.resolve("agent.aot");
    // Training run: records the cache when the agent exits.
    startToReady(externalEnv(host, port, "bench-start"), List.of("-XX:AOTCacheOutput=" + aot));
    List<Long> withAot = new ArrayList<>();
    for (int i = 0; i < STARTS; i++) {
      withAot.add(startToReady(externalEnv(host, port, "bench-start"), List.of("-XX:AOTCache=" + aot)));
    }
    long base = median(trivial);
    long j = median(jvm);
    long a = median(withAot);
    System.out.printf(
        Locale.ROOT,
        "trivial JVM (baseline) %d ms | agent JVM %d ms (%.1fx) | agent with AOT cache %d ms"
            + " (%.1fx; AOT/JVM %.2f)%n",
        base / 1_000_000, j / 1_000_000, (double) j / base, a / 1_000_000, (double) a / base,
        (double) a / j);

    System.out.println("## Question to first token (model " + model.getFileName() + ")");
    latency(host, port, model);
  }

  // --- baseline JVM --------------------------------------------------------------------------

  static Path compileBaseline() throws IOException {
    Path src = work.resolve("src");
    Files.createDirectories(src);
    Files.writeString(
        src.resolve("Idle.java"),
        "public class Idle { public static void main(String[] a) throws Exception {"
            + " System.out.println(\"ready\"); Thread.sleep(600_000); } }");
    Files.writeString(
        src.resolve("Hello.java"),
        "public class Hello { public static void main(String[] a) { System.out.println(\"hi\"); } }");
    Path out = work.resolve("classes");
    Files.createDirectories(out);
    int rc =
        ToolProvider.getSystemJavaCompiler()
            .run(null, null, null, "-d", out.toString(), src.resolve("Idle.java").toString(),
                src.resolve("Hello.java").toString());
    if (rc != 0) {
      throw new IllegalStateException("could not compile the baseline classes");
    }
    return out;
  }

  static Process baseJvm(Path classes, String main) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(FLAGS);
    cmd.add("-cp");
    cmd.add(classes.toString());
    cmd.add(main);
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve(main + ".log").toFile()).start();
  }

  // --- agent processes -----------------------------------------------------------------------

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static Map<String, String> externalEnv(String host, int port, String node) throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_URL", "tcp://" + host + ":" + port);
    env.put("EDGESLM_AGENT_SITE", "bench");
    env.put("EDGESLM_AGENT_NODE_ID", node + "-" + UUID.randomUUID().toString().substring(0, 6));
    env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal-" + UUID.randomUUID()).toString());
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(freePort()));
    return env;
  }

  static Map<String, String> embeddedEnv() throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("EDGESLM_AGENT_BROKER_EMBEDDED_PORT", Integer.toString(freePort()));
    env.put("EDGESLM_AGENT_DEMO_SIMULATOR", "off");
    env.put("EDGESLM_AGENT_JOURNAL_DIR", work.resolve("journal-" + UUID.randomUUID()).toString());
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(freePort()));
    return env;
  }

  static Process agent(Map<String, String> env, List<String> extraFlags) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(FLAGS);
    cmd.addAll(EXTRA_FLAGS);
    cmd.addAll(extraFlags);
    cmd.add("-jar");
    cmd.add(app.resolve("quarkus-run.jar").toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.redirectOutput(work.resolve("agent-" + UUID.randomUUID() + ".log").toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    managementPorts.put(p.pid(), Integer.parseInt(env.get("EDGESLM_MANAGEMENT_PORT")));
    return p;
  }

  static final Map<Long, Integer> managementPorts = new HashMap<>();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static boolean ready(Process p) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + managementPorts.get(p.pid()) + "/q/health/ready"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static void awaitReady(Process p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (!ready(p)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("agent did not become ready (see " + work + ")");
      }
      Thread.sleep(10);
    }
  }

  static long startToReady(Map<String, String> env, List<String> flags) throws Exception {
    long t0 = System.nanoTime();
    Process p = agent(env, flags);
    awaitReady(p);
    long t = System.nanoTime() - t0;
    stop(p);
    return t;
  }

  static void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor();
    }
  }

  static long idleRssOf(Process p, String readyMarker) throws Exception {
    if (readyMarker == null) {
      Thread.sleep(2000);
    } else {
      awaitReady(p);
    }
    Thread.sleep(IDLE_SETTLE_MS);
    long rss = rss(p.pid());
    stop(p);
    return rss;
  }

  /** Bytes in MiB, to a tenth: a target of 80 MiB is met at 80.0, not at 80.9 shown as 80. */
  static double mib(long bytes) {
    return bytes / (double) (1 << 20);
  }

  static long rss(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }

  /** CPU nanoseconds (user + system) of each of the process's threads, summed by thread name. */
  static Map<String, Long> threadCpu(long pid) throws IOException {
    Map<String, Long> out = new HashMap<>();
    long tick = 10_000_000L; // USER_HZ is 100 on Linux
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : tasks.toList()) {
        String stat;
        try {
          stat = Files.readString(t.resolve("stat"));
        } catch (IOException e) {
          continue; // the thread ended
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        out.merge(name, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * tick, Long::sum);
      }
    }
    return out;
  }

  static long median(List<Long> xs) {
    List<Long> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  // --- latency -------------------------------------------------------------------------------

  static void latency(String host, int port, Path model) throws Exception {
    Map<String, String> env = externalEnv(host, port, "bench-model");
    env.put("EDGESLM_AGENT_MODEL_PATH", model.toString());
    env.put("EDGESLM_AGENT_MODEL_THREADS", "2");
    env.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "8");
    env.put("EDGESLM_AGENT_MODEL_TEMPERATURE", "0.8");
    env.put("EDGESLM_AGENT_MODEL_SEED", "1");
    env.put("EDGESLM_AGENT_REPORT_INTERVAL", "1h");
    String oilTopic = "bench/" + env.get("EDGESLM_AGENT_NODE_ID") + "/oil";
    env.put("EDGESLM_AGENT_SENSORS_OIL_TOPIC", oilTopic);
    env.put("EDGESLM_AGENT_SENSORS_OIL_UNIT", "°C");
    env.put("EDGESLM_AGENT_SENSORS_OIL_ALIAS", "Press 3 oil temperature");
    env.put("EDGESLM_AGENT_SENSORS_OIL_NORMAL_MIN", "40");
    env.put("EDGESLM_AGENT_SENSORS_OIL_NORMAL_MAX", "80");
    Process agent = agent(env, List.of());
    String ask = "edge/v1/bench/" + env.get("EDGESLM_AGENT_NODE_ID") + "/ask";
    String replyTopic = "operator/bench/replies/" + UUID.randomUUID();
    Operator c = CLIENT.equals("paho") ? Operator.paho(host, port, replyTopic) : new RawMqtt(host, port, replyTopic);
    try {
      // Ready means the model has loaded (readiness includes "model ready").
      awaitReady(agent);
      c.publish(oilTopic, "71.2".getBytes(StandardCharsets.UTF_8), null, null);
      Thread.sleep(200);
      List<Long> firstToken = new ArrayList<>();
      List<Long> inAgent = new ArrayList<>();
      int n = QUESTIONS;
      Map<String, Long> cpu0 = null;
      for (int i = 0; i < n + WARM_UPS; i++) {
        if (i == WARM_UPS) {
          cpu0 = threadCpu(agent.pid());
        }
        Asked a = ask(c, ask, replyTopic, "What is the oil temperature of press 3?", i);
        Matcher m = Pattern.compile("\"firstTokenMs\":(\\d+)").matcher(a.answer());
        if (i >= WARM_UPS && m.find()) {
          inAgent.add(Long.parseLong(m.group(1)) * 1_000_000);
        }
        if (i >= WARM_UPS) {
          firstToken.add(a.firstNanos());
        }
      }
      Map<String, Long> cpu1 = threadCpu(agent.pid());
      double engine = engineTtftSeconds(agent);
      long med = median(firstToken);
      System.out.printf(
          Locale.ROOT,
          "%d questions: MQTT question->first token median %.2f ms (p90 %.2f ms) | engine's own TTFT"
              + " p50 (baseline) %.2f ms | added %.2f ms (ratio %.2f)%n",
          firstToken.size(), med / 1e6, percentile(firstToken, 0.9) / 1e6, engine * 1e3,
          med / 1e6 - engine * 1e3, (med / 1e9) / engine);
      System.out.println("  operator client: " + c.describe());
      // CPU time does not depend on the machine's load as wall time does: the agent's threads
      // during the measured questions, the JIT compilers apart.
      long jit = 0;
      long rest = 0;
      for (Map.Entry<String, Long> e : cpu1.entrySet()) {
        long d = e.getValue() - cpu0.getOrDefault(e.getKey(), 0L);
        if (e.getKey().startsWith("C1 Compiler") || e.getKey().startsWith("C2 Compiler")) {
          jit += d;
        } else {
          rest += d;
        }
      }
      System.out.printf(
          Locale.ROOT,
          "  agent CPU per measured question: %.2f ms in its own threads, %.2f ms in the JIT compilers%n",
          rest / 1e6 / n, jit / 1e6 / n);
      long agentMed = median(inAgent);
      System.out.printf(
          Locale.ROOT,
          "  of which: arrival at the agent->first token inside the agent (its firstTokenMs) median"
              + " %d ms; MQTT both ways + client %.2f ms%n",
          agentMed / 1_000_000, med / 1e6 - agentMed / 1e6);
    } finally {
      c.close();
      stop(agent);
    }
  }

  // --- Q&A prompt cache on llama-server ------------------------------------------------------

  static final int QA_ROUNDS = QUICK ? 1 : 3;
  static final String EVALUATED = "edgeslm_agent_engine_llamacpp_prompt_tokens_total";

  /**
   * Per round: starts the packaged agent on llama-server with 20 sensors (start to ready, idle RSS
   * of the agent and its engine), publishes a value for each, asks a first question (cold cache)
   * and a second, different one on the unchanged sensors; MQTT question to first streamed token
   * for both, against the raw engine's prefill time for the first prompt (llama-server's own
   * prompt_seconds_total, read through the agent's metrics).
   */
  static void qaCache(String host, int port, Path model) throws Exception {
    List<Long> first = new ArrayList<>();
    List<Long> second = new ArrayList<>();
    List<Long> prefill = new ArrayList<>();
    List<Long> starts = new ArrayList<>();
    List<Long> idleAgent = new ArrayList<>();
    List<Long> idleEngine = new ArrayList<>();
    List<Long> evaluatedFirst = new ArrayList<>();
    List<Long> evaluatedNext = new ArrayList<>();
    for (int round = 0; round < QA_ROUNDS; round++) {
      Map<String, String> env = externalEnv(host, port, "bench-qa");
      env.put("EDGESLM_AGENT_MODEL_PATH", model.toString());
      env.put("EDGESLM_AGENT_MODEL_ENGINE", "llama-server");
      env.put("EDGESLM_AGENT_MODEL_THREADS", "2");
      env.put("EDGESLM_AGENT_MODEL_CONTEXT", "4096");
      env.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "8");
      // A cold 1B prompt with 20 sensors takes tens of seconds on a small CPU: the timeouts must
      // not cut it off, or the rule answer comes back instead of the model's.
      env.put("EDGESLM_AGENT_MODEL_ANSWER_DEADLINE", "10m");
      env.put("EDGESLM_AGENT_QA_DEFAULT_TIMEOUT", "10m");
      env.put("EDGESLM_AGENT_MODEL_FIRST_TOKEN_TIMEOUT", "10m");
      env.put("EDGESLM_AGENT_MODEL_TEMPERATURE", "0");
      env.put("EDGESLM_AGENT_REPORT_INTERVAL", "1h");
      String node = env.get("EDGESLM_AGENT_NODE_ID");
      String[] kinds = {"oil_temp", "pressure", "motor_current", "vibration", "flow"};
      String[] units = {"°C", "bar", "A", "mm/s", "l/min"};
      for (int i = 0; i < 20; i++) {
        String key = "S" + i;
        String id = "line" + (i / 5 + 1) + "_" + kinds[i % 5];
        env.put("EDGESLM_AGENT_SENSORS_" + key + "_TOPIC", "bench/" + node + "/s" + i);
        env.put("EDGESLM_AGENT_SENSORS_" + key + "_UNIT", units[i % 5]);
        env.put(
            "EDGESLM_AGENT_SENSORS_" + key + "_ALIAS",
            "Line " + (i / 5 + 1) + " " + kinds[i % 5].replace('_', ' '));
        env.put("EDGESLM_AGENT_SENSORS_" + key + "_NORMAL_MIN", "10");
        env.put("EDGESLM_AGENT_SENSORS_" + key + "_NORMAL_MAX", "90");
      }
      long t0 = System.nanoTime();
      Process agent = agent(env, List.of());
      awaitReady(agent);
      starts.add(System.nanoTime() - t0);
      Thread.sleep(IDLE_SETTLE_MS);
      idleAgent.add(rss(agent.pid()));
      idleEngine.add(
          agent.descendants().mapToLong(h -> {
            try {
              return rss(h.pid());
            } catch (IOException | RuntimeException e) {
              return 0;
            }
          }).sum());
      String ask = "edge/v1/bench/" + node + "/ask";
      String replyTopic = "operator/bench/replies/" + UUID.randomUUID();
      Operator c = Operator.paho(host, port, replyTopic);
      try {
        for (int i = 0; i < 20; i++) {
          c.publish("bench/" + node + "/s" + i, Integer.toString(40 + i).getBytes(StandardCharsets.UTF_8), null, null);
        }
        Thread.sleep(500);
        double p0 = metric(agent, "edgeslm_agent_engine_llamacpp_prompt_seconds_total");
        double e0 = metric(agent, EVALUATED);
        first.add(ask(c, ask, replyTopic, "Is anything out of range on the plant?", 1).firstNanos());
        double p1 = metric(agent, "edgeslm_agent_engine_llamacpp_prompt_seconds_total");
        double e1 = metric(agent, EVALUATED);
        prefill.add((long) ((p1 - p0) * 1e9));
        second.add(ask(c, ask, replyTopic, "Which sensor reads highest right now?", 2).firstNanos());
        // The engine's metrics are re-read at most every 5 s; wait for a fresh copy.
        Thread.sleep(5_500);
        double e2 = metric(agent, EVALUATED);
        evaluatedFirst.add((long) (e1 - e0));
        evaluatedNext.add((long) (e2 - e1));
      } finally {
        c.close();
        stop(agent);
      }
    }
    long f = median(first);
    long s2 = median(second);
    long pf = median(prefill);
    System.out.printf(
        Locale.ROOT,
        "qa cache: first question->first token median %.1f ms | next question on unchanged sensors"
            + " %.1f ms (%.2fx the first) | raw engine prefill of the first prompt %.1f ms | %d rounds%n",
        f / 1e6, s2 / 1e6, (double) s2 / f, pf / 1e6, first.size());
    System.out.printf(
        Locale.ROOT,
        "qa cache: prompt tokens the server evaluated (cache hits left out), median: first question"
            + " %d, next question %d%n",
        median(evaluatedFirst),
        median(evaluatedNext));
    System.out.printf(
        Locale.ROOT,
        "llama-server agent: start to ready median %d ms | idle RSS agent %d MiB + engine processes %d MiB%n",
        median(starts) / 1_000_000, median(idleAgent) >> 20, median(idleEngine) >> 20);
  }

  /** Time from publishing to the first streamed part, and the final answer's JSON. */
  record Asked(long firstNanos, String answer) {}

  static Asked ask(Operator c, String ask, String replyTopic, String question, int id) throws Exception {
    BlockingQueue<Object[]> replies = c.replies();
    replies.clear();
    byte[] q = ("{\"question\":\"" + question + "\",\"stream\":true}").getBytes(StandardCharsets.UTF_8);
    long t0 = c.publish(ask, q, replyTopic, new byte[] {(byte) id});
    Long first = null;
    while (true) {
      Object[] r = replies.poll(300, TimeUnit.SECONDS);
      if (r == null) {
        throw new IllegalStateException("no reply within 300 s");
      }
      String text = new String((byte[]) r[1], StandardCharsets.UTF_8);
      if (first == null && text.contains("\"type\":\"part\"")) {
        first = (Long) r[0] - t0;
      }
      if (!text.contains("\"type\":\"part\"")) {
        if (!text.contains("\"source\":\"model\"")) {
          throw new IllegalStateException("not a model answer: " + text);
        }
        if (first == null) {
          throw new IllegalStateException("no streamed part before the answer: " + text);
        }
        return new Asked(first, text);
      }
    }
  }

  static double metric(Process agent, String name) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + managementPorts.get(agent.pid()) + "/q/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    for (String line : r.body().split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new IllegalStateException("no " + name + " in the agent's metrics");
  }

  static long percentile(List<Long> xs, double q) {
    List<Long> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(Math.min(s.size() - 1, (int) Math.ceil(q * s.size()) - 1));
  }

  static double engineTtftSeconds(Process agent) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + managementPorts.get(agent.pid()) + "/q/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    for (String line : r.body().split("\n")) {
      if (line.startsWith("edgeslm_agent_engine_ttft_p50_seconds")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new IllegalStateException("no engine TTFT gauge");
  }

  /** The operator's side of the benchmark: publishes questions and collects replies. */
  interface Operator extends AutoCloseable {
    /**
     * Publishes at QoS 1 (response topic and correlation data if not null) without waiting for the
     * broker's acknowledgement; returns System.nanoTime() taken just before the send.
     */
    long publish(String topic, byte[] payload, String responseTopic, byte[] correlation)
        throws Exception;

    /** Replies as {receive nanoTime, payload}. */
    BlockingQueue<Object[]> replies();

    String describe();

    @Override
    void close() throws Exception;

    /** Eclipse Paho (its send and callback threads), Nagle off, subscribed to {@code replies}. */
    static Operator paho(String host, int port, String replies) throws Exception {
      BlockingQueue<Object[]> q = new LinkedBlockingQueue<>();
      MqttAsyncClient c =
          new MqttAsyncClient("tcp://" + host + ":" + port, "bench-" + UUID.randomUUID(), new MemoryPersistence());
      c.setCallback(new Collector(q));
      MqttConnectionOptions options = new MqttConnectionOptions();
      // The operator's client turns Nagle off too, as libmosquitto's clients do, so that the
      // measurement is the agent's and the broker's, not the client's coalescing.
      options.setSocketFactory(new NoDelay());
      c.connect(options).waitForCompletion(10_000);
      c.subscribe(new MqttSubscription[] {new MqttSubscription(replies, 1)}).waitForCompletion(10_000);
      return new Operator() {
        public long publish(String topic, byte[] payload, String responseTopic, byte[] correlation)
            throws Exception {
          MqttMessage m = new MqttMessage(payload);
          m.setQos(1);
          if (responseTopic != null) {
            MqttProperties props = new MqttProperties();
            props.setResponseTopic(responseTopic);
            props.setCorrelationData(correlation);
            m.setProperties(props);
          }
          long t0 = System.nanoTime();
          c.publish(topic, m);
          return t0;
        }

        public BlockingQueue<Object[]> replies() {
          return q;
        }

        public String describe() {
          return "Eclipse Paho MQTT 5 (its own send and callback threads), TCP_NODELAY";
        }

        public void close() throws Exception {
          c.disconnect().waitForCompletion(5000);
          c.close();
        }
      };
    }
  }

  /**
   * A minimal MQTT 5 client for the operator's side: one blocking socket with Nagle off, a publish
   * written on the caller's thread, and one reader thread that stamps each packet as soon as it has
   * read it (and acknowledges QoS 1 publishes). It has none of a full client's queues and thread
   * hand-offs, so the time it measures is the broker's and the agent's. Enough of MQTT 5 for this
   * benchmark only: no reconnect, no keep-alive pings (keep alive 0), no QoS 2.
   */
  static final class RawMqtt implements Operator {
    final java.net.Socket socket;
    final java.io.OutputStream out;
    final java.io.DataInputStream in;
    final BlockingQueue<Object[]> replies = new LinkedBlockingQueue<>();
    final BlockingQueue<Integer> acks = new LinkedBlockingQueue<>();
    final Thread reader;
    int nextId = 1;

    RawMqtt(String host, int port, String subscription) throws IOException, InterruptedException {
      socket = new java.net.Socket(host, port);
      socket.setTcpNoDelay(true);
      out = socket.getOutputStream();
      in = new java.io.DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16));
      java.io.ByteArrayOutputStream v = new java.io.ByteArrayOutputStream();
      str(v, "MQTT");
      v.write(5); // protocol level: MQTT 5
      v.write(0x02); // clean start
      v.write(0); // keep alive 0: off
      v.write(0);
      v.write(0); // no properties
      str(v, "bench-raw-" + UUID.randomUUID().toString().substring(0, 8));
      send(0x10, v.toByteArray());
      int type = in.readUnsignedByte();
      byte[] connack = new byte[remaining()];
      in.readFully(connack);
      if (type != 0x20 || connack[1] != 0) {
        throw new IOException("CONNACK refused: type " + type + " reason " + connack[1]);
      }
      reader = new Thread(this::read, "bench-mqtt-reader");
      reader.setDaemon(true);
      reader.start();
      v.reset();
      int id = packetId();
      v.write(id >> 8);
      v.write(id);
      v.write(0); // no properties
      str(v, subscription);
      v.write(1); // QoS 1
      send(0x82, v.toByteArray());
      Integer acked = acks.poll(10, TimeUnit.SECONDS);
      if (acked == null) {
        throw new IOException("no SUBACK");
      }
    }

    synchronized int packetId() {
      int id = nextId;
      nextId = nextId == 65535 ? 1 : nextId + 1;
      return id;
    }

    static void str(java.io.ByteArrayOutputStream o, String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      o.write(b.length >> 8);
      o.write(b.length);
      o.writeBytes(b);
    }

    static void varInt(java.io.ByteArrayOutputStream o, int n) {
      do {
        int d = n & 0x7f;
        n >>>= 7;
        o.write(n > 0 ? d | 0x80 : d);
      } while (n > 0);
    }

    int remaining() throws IOException {
      int n = 0;
      for (int shift = 0; ; shift += 7) {
        int b = in.readUnsignedByte();
        n |= (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return n;
        }
      }
    }

    /** Writes one packet in a single write. */
    synchronized void send(int header, byte[] body) throws IOException {
      java.io.ByteArrayOutputStream p = new java.io.ByteArrayOutputStream(body.length + 5);
      p.write(header);
      varInt(p, body.length);
      p.writeBytes(body);
      out.write(p.toByteArray());
      out.flush();
    }

    public long publish(String topic, byte[] payload, String responseTopic, byte[] correlation)
        throws IOException {
      java.io.ByteArrayOutputStream v = new java.io.ByteArrayOutputStream(payload.length + 128);
      str(v, topic);
      int id = packetId();
      v.write(id >> 8);
      v.write(id);
      java.io.ByteArrayOutputStream props = new java.io.ByteArrayOutputStream();
      if (responseTopic != null) {
        props.write(0x08); // response topic
        str(props, responseTopic);
        props.write(0x09); // correlation data
        props.write(correlation.length >> 8);
        props.write(correlation.length);
        props.writeBytes(correlation);
      }
      varInt(v, props.size());
      v.writeBytes(props.toByteArray());
      v.writeBytes(payload);
      byte[] body = v.toByteArray();
      long t0 = System.nanoTime();
      send(0x32, body); // PUBLISH, QoS 1
      return t0;
    }

    void read() {
      try {
        while (true) {
          int type = in.readUnsignedByte();
          byte[] body = new byte[remaining()];
          in.readFully(body);
          long now = System.nanoTime();
          switch (type >> 4) {
            case 3 -> {
              int qos = (type >> 1) & 3;
              int tl = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
              int at = 2 + tl;
              if (qos > 0) {
                send(0x40, new byte[] {body[at], body[at + 1], 0}); // PUBACK, success
                at += 2;
              }
              int pl = 0;
              int shift = 0;
              int b;
              do {
                b = body[at++] & 0xff;
                pl |= (b & 0x7f) << shift;
                shift += 7;
              } while ((b & 0x80) != 0);
              at += pl;
              replies.add(new Object[] {now, Arrays.copyOfRange(body, at, body.length)});
            }
            case 9 -> acks.add(1); // SUBACK
            default -> {} // PUBACK of our publishes and the rest: nothing to do
          }
        }
      } catch (IOException e) {
        // closed
      }
    }

    public BlockingQueue<Object[]> replies() {
      return replies;
    }

    public String describe() {
      return "a minimal MQTT 5 client (blocking socket, TCP_NODELAY, publish on the caller's thread, replies stamped on its reader thread)";
    }

    public void close() throws IOException {
      try {
        send(0xe0, new byte[] {0, 0}); // DISCONNECT, normal, no properties
      } catch (IOException e) {
        // already gone
      }
      socket.close();
    }
  }

  static final class NoDelay extends javax.net.SocketFactory {
    static java.net.Socket nd(java.net.Socket s) throws IOException {
      s.setTcpNoDelay(true);
      return s;
    }

    public java.net.Socket createSocket() throws IOException {
      return nd(new java.net.Socket());
    }

    public java.net.Socket createSocket(String h, int p) throws IOException {
      return nd(new java.net.Socket(h, p));
    }

    public java.net.Socket createSocket(String h, int p, java.net.InetAddress l, int lp)
        throws IOException {
      return nd(new java.net.Socket(h, p, l, lp));
    }

    public java.net.Socket createSocket(java.net.InetAddress h, int p) throws IOException {
      return nd(new java.net.Socket(h, p));
    }

    public java.net.Socket createSocket(
        java.net.InetAddress h, int p, java.net.InetAddress l, int lp) throws IOException {
      return nd(new java.net.Socket(h, p, l, lp));
    }
  }

  record Collector(BlockingQueue<Object[]> into) implements MqttCallback {
    public void disconnected(MqttDisconnectResponse r) {}

    public void mqttErrorOccurred(MqttException e) {}

    public void messageArrived(String topic, MqttMessage m) {
      into.add(new Object[] {System.nanoTime(), m.getPayload()});
    }

    public void deliveryComplete(IMqttToken t) {}

    public void connectComplete(boolean r, String s) {}

    public void authPacketArrived(int c, MqttProperties p) {}
  }
}
