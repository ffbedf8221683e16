package io.edgeslm.inference.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.InferenceEngine;
import io.edgeslm.inference.InferenceEngines;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.TokenListener;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prompt and decode speed of the llama-server engine and of the bundled worker on the same model
 * and threads, against {@code llama-bench} of the llama-server's build, all interleaved round by
 * round so that each side sees the same minutes of a shared machine.
 *
 * <p>One request per engine and round, as a Q&amp;A request runs: a fresh prompt of about {@code
 * --prompt-words} words (a new first word per round, so no prompt cache helps), then {@code
 * --n-predict} greedy tokens. Prompt speed: prompt tokens over the time to the first streamed token
 * (HTTP, tokenisation and the first sample included). Decode speed: tokens after the first over the
 * time from the first to the last; each of them attends over the prompt, so the baseline is {@code
 * llama-bench} tg at a depth of the prompt's length. Same round, after both engines: {@code
 * llama-bench -p <prompt tokens> -n 0} and {@code -p 0 -n <n-predict> -d 0,<prompt tokens>} (its
 * defaults otherwise: batch 2048, micro-batch 512, flash attention auto, one warm-up run), in the
 * environment the engine gives its server ({@code OMP_WAIT_POLICY=PASSIVE}). Also printed: the
 * server's own prefill and decode rates of each round (its {@code /metrics}: prompt tokens over
 * prompt seconds, decode steps over predicted seconds), which tell the server's work apart from the
 * path around it (HTTP, the stream of one event per token, the client).
 *
 * <p>Usage: {@code EngineBenchmark --model m.gguf --llama-server bin [--llama-bench bin] [--threads
 * 2] [--rounds 5] [--n-predict 64] [--prompt-words 100] [--no-worker]}. Ends with {@code RESULT
 * name=...} lines (bench/run's format).
 */
public final class EngineBenchmark {
  private EngineBenchmark() {}

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Medians are taken per list. */
  private record Series(
      List<Double> prompt,
      List<Double> decode,
      List<Double> serverPrompt,
      List<Double> serverDecode) {
    Series() {
      this(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    }
  }

  public static void main(String[] args) throws Exception {
    Path model = null;
    Path server = null;
    Path bench = null;
    int threads = 2;
    int rounds = 5;
    int nPredict = 64;
    int words = 100;
    boolean withWorker = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--model" -> model = Path.of(args[++i]);
        case "--llama-server" -> server = Path.of(args[++i]);
        case "--llama-bench" -> bench = Path.of(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--n-predict" -> nPredict = Integer.parseInt(args[++i]);
        case "--prompt-words" -> words = Integer.parseInt(args[++i]);
        case "--no-worker" -> withWorker = false;
        default -> throw new IllegalArgumentException("Unknown argument " + args[i]);
      }
    }
    if (model == null || server == null) {
      throw new IllegalArgumentException("--model and --llama-server are required");
    }
    ModelSpec spec = ModelSpec.of(model, threads, 4096);
    Series ls = new Series();
    Series worker = new Series();
    List<Double> bPrompt = new ArrayList<>();
    List<Double> bDecodeDepth = new ArrayList<>();
    List<Double> bDecodeZero = new ArrayList<>();
    int promptTokens = 0;
    int generated = 0;
    try (InferenceEngine lsEngine =
            InferenceEngines.open(EngineConfig.LlamaServerBackend.of(server), spec);
        InferenceEngine workerEngine =
            withWorker
                ? InferenceEngines.open(EngineConfig.WorkerBackend.defaults(), spec)
                : null) {
      Map<String, Double> metrics = lsEngine.nativeMetrics();
      for (int r = 0; r < rounds + 1; r++) {
        boolean warm = r == 0;
        GenerationResult q =
            measure("llama-server", lsEngine, r, nPredict, words, warm ? null : ls);
        if (workerEngine != null) {
          measure("worker", workerEngine, r, nPredict, words, warm ? null : worker);
        }
        promptTokens = q.promptTokens();
        generated = q.generatedTokens();
        if (bench != null && !warm) {
          double[] pp = llamaBench(bench, model, threads, "-p", promptTokens + "", "-n", "0");
          double[] tg =
              llamaBench(
                  bench, model, threads, "-p", "0", "-n", nPredict + "", "-d", "0," + promptTokens);
          bPrompt.add(pp[0]);
          bDecodeZero.add(tg[0]);
          bDecodeDepth.add(tg[1]);
          System.out.printf(
              Locale.ROOT,
              "llama-bench round %d: pp%d %.1f tok/s, tg%d %.2f tok/s at depth 0, %.2f at depth %d%n",
              r,
              promptTokens,
              pp[0],
              nPredict,
              tg[0],
              tg[1],
              promptTokens);
        }
        // This round's llama-server request alone took longer than the engine's metrics cache
        // (5 s), so this read is fresh and covers exactly that request.
        Map<String, Double> now = lsEngine.nativeMetrics();
        double tokens = delta(now, metrics, "llamacpp:prompt_tokens_total");
        double seconds = delta(now, metrics, "llamacpp:prompt_seconds_total");
        // The server counts every generated token but times only the decode steps after the
        // first (which comes from the prompt's logits): one request, so steps = tokens - 1, the
        // same count and span as the client's figure (first to last streamed token).
        double steps = delta(now, metrics, "llamacpp:tokens_predicted_total") - 1;
        double decodeSeconds = delta(now, metrics, "llamacpp:tokens_predicted_seconds_total");
        metrics = now;
        if (seconds > 0 && decodeSeconds > 0) {
          System.out.printf(
              Locale.ROOT,
              "llama-server round %d: server's own prefill %.1f tok/s (%.0f tokens in %.0f ms),"
                  + " decode %.2f tok/s (%.0f steps in %.0f ms, %.2f ms per step)%n",
              r,
              tokens / seconds,
              tokens,
              seconds * 1000,
              steps / decodeSeconds,
              steps,
              decodeSeconds * 1000,
              decodeSeconds * 1000 / steps);
          if (!warm) {
            ls.serverPrompt().add(tokens / seconds);
            ls.serverDecode().add(steps / decodeSeconds);
          }
        }
      }
    }
    if (generated != nPredict) {
      System.out.printf(
          "WARNING: the engine generated %d tokens, llama-bench %d%n", generated, nPredict);
    }
    double lsd = median(ls.decode());
    double lsp = median(ls.prompt());
    double wd = median(worker.decode());
    double wp = median(worker.prompt());
    System.out.printf(
        Locale.ROOT,
        "medians of %d rounds: llama-server engine decode %.2f (server's own %.2f), prompt %.1f"
            + " (server's own prefill %.1f) | worker decode %.2f, prompt %.1f | llama-bench pp%d"
            + " %.1f, tg%d %.2f at depth %d, %.2f at depth 0%n",
        rounds,
        lsd,
        median(ls.serverDecode()),
        lsp,
        median(ls.serverPrompt()),
        wd,
        wp,
        promptTokens,
        median(bPrompt),
        nPredict,
        median(bDecodeDepth),
        promptTokens,
        median(bDecodeZero));
    String file = model.getFileName().toString();
    if (bench != null) {
      result(
          "engine.decode-vs-llama-bench",
          lsd,
          median(bDecodeDepth),
          "tok/s",
          ">=0.97",
          0.97,
          "decode through the llama-server engine after a "
              + promptTokens
              + "-token prompt vs llama-bench tg"
              + nPredict
              + " at depth "
              + promptTokens
              + " of the same build, interleaved ("
              + file
              + ")");
      result(
          "engine.prompt-vs-llama-bench",
          lsp,
          median(bPrompt),
          "tok/s",
          ">=0.95",
          0.95,
          "prompt speed through the llama-server engine (to the first streamed token) vs"
              + " llama-bench pp"
              + promptTokens
              + " of the same build, interleaved");
      result(
          "engine.server-decode-vs-llama-bench",
          median(ls.serverDecode()),
          median(bDecodeDepth),
          "tok/s",
          "-",
          0,
          "llama-server's own decode rate (its metrics, the steps after the first token) vs"
              + " llama-bench tg"
              + nPredict
              + " at depth "
              + promptTokens);
      result(
          "engine.server-prefill-vs-llama-bench",
          median(ls.serverPrompt()),
          median(bPrompt),
          "tok/s",
          "-",
          0,
          "llama-server's own prefill rate (its metrics) vs llama-bench pp" + promptTokens);
    }
    result(
        "engine.decode-vs-server",
        lsd,
        median(ls.serverDecode()),
        "tok/s",
        "-",
        0,
        "decode through the engine (streamed tokens at the client) vs llama-server's own rate of"
            + " the same requests: what the HTTP stream and the client cost");
    result(
        "engine.decode-vs-worker",
        lsd,
        wd,
        "tok/s",
        "-",
        0,
        "decode, llama-server engine vs the bundled worker (llama.cpp b4916), same prompt");
    result(
        "engine.prompt-vs-worker",
        lsp,
        wp,
        "tok/s",
        "-",
        0,
        "prompt speed, llama-server engine vs the bundled worker");
  }

  private static GenerationResult measure(
      String name, InferenceEngine e, int round, int nPredict, int words, Series into)
      throws Exception {
    StringBuilder p = new StringBuilder("R" + round + "x" + System.nanoTime());
    for (int i = 0; i < words; i++) {
      p.append(" press oil pump flow").append(i % 10);
    }
    // Greedy, nPredict tokens (stops only at the bound: no stop strings, and a synthetic model
    // rarely samples its end token).
    GenerationResult q =
        e.generate(GenerationRequest.ofPrompt(p.toString(), nPredict), TokenListener.NONE).await();
    double pp = q.promptTokens() / (q.timings().timeToFirstToken().toNanos() / 1e9);
    System.out.printf(
        Locale.ROOT,
        "%s round %d: prompt %.1f tok/s (%d tokens, ttft %d ms), decode %.2f tok/s (%d tokens)%n",
        name,
        round,
        pp,
        q.promptTokens(),
        q.timings().timeToFirstToken().toMillis(),
        q.timings().tokensPerSecond(),
        q.generatedTokens());
    if (into != null) {
      into.prompt().add(pp);
      into.decode().add(q.timings().tokensPerSecond());
    }
    return q;
  }

  /** avg_ts of each test llama-bench ran, in its order. */
  private static double[] llamaBench(Path bench, Path model, int threads, String... test)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                bench.toString(),
                "-m",
                model.toString(),
                "-t",
                Integer.toString(threads),
                "-r",
                "1",
                "-o",
                "jsonl"));
    cmd.addAll(List.of(test));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    Process p = pb.start();
    List<Double> rates = new ArrayList<>();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("{")) {
          JsonNode n = MAPPER.readTree(line);
          rates.add(n.path("avg_ts").asDouble());
        }
      }
    }
    int code = p.waitFor();
    if (code != 0 || rates.isEmpty()) {
      throw new IllegalStateException("llama-bench " + String.join(" ", test) + " exited " + code);
    }
    return rates.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static double delta(Map<String, Double> now, Map<String, Double> before, String key) {
    return now.getOrDefault(key, 0.0) - before.getOrDefault(key, 0.0);
  }

  private static void result(
      String name,
      double measured,
      double baseline,
      String unit,
      String target,
      double min,
      String desc) {
    if (!(measured > 0) || !(baseline > 0)) {
      return;
    }
    double ratio = measured / baseline;
    String met = target.equals("-") ? "-" : ratio >= min ? "yes" : "no";
    System.out.printf(
        Locale.ROOT,
        "RESULT name=%s measured=%.2f baseline=%.2f unit=%s ratio=%.3f target=%s met=%s desc=%s%n",
        name,
        measured,
        baseline,
        unit,
        ratio,
        target,
        met,
        desc);
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.isEmpty() ? 0 : s.get(s.size() / 2);
  }
}
